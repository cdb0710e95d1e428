package io.imsrc.query.index;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.store.Database;
import io.imsrc.query.store.VectorRow;
import io.imsrc.query.store.VectorStore;
import io.imsrc.query.testing.VectorRows;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestVectors;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a {@link SavedIndex} remembers of the files behind the generation it serves: after a build
 * saved and read back, and after a start that loads the saved files, the next save links every
 * category that has not changed instead of writing it again.
 */
class SavedIndexITCase {
    private static final String MODEL = "test-model-0123456789ab";
    private static final int D = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @Test
    void the_saves_after_a_read_back_and_after_a_load_link_the_unchanged_categories() throws Exception {
        TestDatabase catalog = TestDatabase.create("saved", SchemaMigrations::migrate);
        VectorRows.insert(catalog, VectorRows.clustered(3, 100, D, 7), MODEL);
        Path path = temp.resolve("faiss_index.bin");
        try (Database database = new Database(catalog.jdbcUrl(), catalog.user(), null, 2)) {
            VectorStore store = new VectorStore(database.pool(), MODEL);
            GenerationBuilder builder = new GenerationBuilder(store, IndexType.FLATL2, D, Duration.ofMinutes(1));

            SavedIndex saved = new SavedIndex(store, IndexType.FLATL2, path, Duration.ZERO);
            IndexSnapshot live = saved.saveAndReadBack(builder.build().snapshot());
            SavedFiles firstSave;
            try {
                firstSave = files(path);
                assertThat(firstSave.inodes()).containsOnlyKeys("c0", "c1", "c2");
                assertThat(saved.save(live)).isTrue();
                SavedFiles afterReadBack = files(path);
                assertThat(afterReadBack.parts()).as("a new parts folder").isNotEqualTo(firstSave.parts());
                assertThat(afterReadBack.inodes()).as("every category linked").isEqualTo(firstSave.inodes());
            } finally {
                live.release();
            }

            // A restart: the generation comes from the files.
            SavedIndex restarted = new SavedIndex(store, IndexType.FLATL2, path, Duration.ZERO);
            IndexSnapshot loaded = restarted.load().orElseThrow();
            try {
                SavedFiles beforeSave = files(path);
                assertThat(restarted.save(loaded)).isTrue();
                SavedFiles afterLoad = files(path);
                assertThat(afterLoad.parts()).isNotEqualTo(beforeSave.parts());
                assertThat(afterLoad.inodes()).as("every category linked").isEqualTo(firstSave.inodes());

                // One new vector in c1: c1 written, the others linked.
                long seq = loaded.newestSeq() + 1;
                float[] vector = TestVectors.randomUnit(new Random(8), D);
                assertThat(loaded.add(List.of(new VectorRow(900_000_001L, "c1", vector, seq, seq)))).isEqualTo(1);
                assertThat(restarted.save(loaded)).isTrue();
                Map<String, Object> afterAdd = files(path).inodes();
                assertThat(afterAdd.get("c0")).isEqualTo(firstSave.inodes().get("c0"));
                assertThat(afterAdd.get("c2")).isEqualTo(firstSave.inodes().get("c2"));
                assertThat(afterAdd.get("c1")).as("c1 written again").isNotEqualTo(firstSave.inodes().get("c1"));
            } finally {
                loaded.release();
            }
        }
    }

    /** The parts folder the manifest at {@code path} names, and each category's file in it by inode. */
    private record SavedFiles(String parts, Map<String, Object> inodes) {}

    private static SavedFiles files(Path path) throws IOException {
        IndexFiles.Manifest manifest = JSON.readValue(path.toFile(), IndexFiles.Manifest.class);
        return new SavedFiles(manifest.partsDirectory(), IndexFilesTest.inodes(path, manifest));
    }
}
