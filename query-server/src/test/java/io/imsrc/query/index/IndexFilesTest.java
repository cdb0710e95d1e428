package io.imsrc.query.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.store.VectorRow;
import io.imsrc.testing.TestVectors;
import io.imsrc.testing.TestVectors.Labelled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saves that write only the categories that changed since the save before, and loads of what they wrote. */
class IndexFilesTest {
    private static final int D = 16;

    @TempDir
    Path temp;

    @Test
    void a_save_links_the_files_of_unchanged_categories_and_writes_the_changed_ones() throws IOException {
        Map<String, List<Labelled>> clusters = TestVectors.clustered(3, 200, D, 41);
        List<VectorRow> rows = new ArrayList<>();
        long seq = 0;
        for (List<Labelled> category : clusters.values()) {
            for (Labelled row : category) {
                rows.add(new VectorRow(row.id(), row.category(), row.vector(), ++seq, seq));
            }
        }
        IndexSnapshot snapshot = IndexSnapshot.build("m", IndexType.FLATL2, D, 0, byCategory(rows));
        Path manifest = temp.resolve("faiss_index.bin");
        try {
            IndexFiles.Save first = IndexFiles.save(snapshot, manifest, IndexFiles.Written.NONE);
            Map<String, Object> firstFiles = inodes(manifest, first);

            // One new vector in c1; c0 and c2 are as they were.
            float[] fresh = TestVectors.randomUnit(new java.util.Random(42), D);
            assertThat(snapshot.add(List.of(new VectorRow(99, "c1", fresh, ++seq, seq)))).isEqualTo(1);
            IndexFiles.Save second = IndexFiles.save(snapshot, manifest, first.written());
            Map<String, Object> secondFiles = inodes(manifest, second);

            assertThat(second.manifest().partsDirectory()).isNotEqualTo(first.manifest().partsDirectory());
            assertThat(Files.exists(manifest.resolveSibling(first.manifest().partsDirectory())))
                    .as("the older parts directory is gone").isFalse();
            assertThat(secondFiles.get("c0")).as("c0 linked").isEqualTo(firstFiles.get("c0"));
            assertThat(secondFiles.get("c2")).as("c2 linked").isEqualTo(firstFiles.get("c2"));
            assertThat(secondFiles.get("c1")).as("c1 written again").isNotEqualTo(firstFiles.get("c1"));

            IndexFiles.Read files = IndexFiles.read(manifest, "m", IndexType.FLATL2).orElseThrow();
            IndexSnapshot read = files.snapshot();
            try {
                // A save of the generation just read links every file it was read from.
                Map<String, Object> relinked = inodes(manifest, IndexFiles.save(read, manifest, files.written()));
                assertThat(relinked).isEqualTo(secondFiles);
                assertThat(read.size()).isEqualTo(601);
                assertThat(read.category("c1").size()).isEqualTo(201);
                assertThat(read.category("c1").search(fresh, 1).id(0, 0)).isEqualTo(99);
                for (String category : List.of("c0", "c2")) {
                    Labelled row = clusters.get(category).get(17);
                    assertThat(read.category(category).size()).isEqualTo(200);
                    assertThat(read.category(category).search(row.vector(), 1).id(0, 0)).isEqualTo(row.id());
                }
            } finally {
                read.release();
            }

            // Another generation's indexes are other objects: everything is written.
            IndexSnapshot other = IndexSnapshot.build("m", IndexType.FLATL2, D, 0, byCategory(rows));
            try {
                IndexFiles.Save third = IndexFiles.save(other, manifest, second.written());
                Map<String, Object> thirdFiles = inodes(manifest, third);
                for (String category : List.of("c0", "c1", "c2")) {
                    assertThat(thirdFiles.get(category)).as(category).isNotEqualTo(secondFiles.get(category));
                }
            } finally {
                other.release();
            }
        } finally {
            snapshot.release();
        }
    }

    @Test
    void a_file_that_cannot_be_linked_is_written() throws IOException {
        IndexSnapshot snapshot = IndexSnapshot.build("m", IndexType.FLATL2, D, 0, rows(2, 50, 43));
        Path manifest = temp.resolve("faiss_index.bin");
        try {
            IndexFiles.Save first = IndexFiles.save(snapshot, manifest, IndexFiles.Written.NONE);
            // Its files are gone (someone cleaned up): nothing to link to.
            io.imsrc.common.io.FileTrees.deleteRecursively(manifest.resolveSibling(first.manifest().partsDirectory()));
            IndexFiles.save(snapshot, manifest, first.written());
            IndexSnapshot read = IndexFiles.read(manifest, "m", IndexType.FLATL2).orElseThrow().snapshot();
            try {
                assertThat(read.size()).isEqualTo(100);
                assertThat(read.categoryNames()).containsExactlyInAnyOrder("c0", "c1");
            } finally {
                read.release();
            }
        } finally {
            snapshot.release();
        }
    }

    @Test
    void a_saved_file_replaced_since_is_written_not_linked() throws IOException {
        IndexSnapshot snapshot = IndexSnapshot.build("m", IndexType.FLATL2, D, 0, rows(2, 50, 44));
        Path manifest = temp.resolve("faiss_index.bin");
        try {
            IndexFiles.Save first = IndexFiles.save(snapshot, manifest, IndexFiles.Written.NONE);
            Map<String, Object> firstFiles = inodes(manifest, first);
            // c0's file replaced by a copy of itself: the same name and bytes, another file.
            Path parts = manifest.resolveSibling(first.manifest().partsDirectory());
            String c0 = first.manifest().categories().stream().filter(p -> p.category().equals("c0")).findFirst()
                    .orElseThrow().file();
            Path copy = temp.resolve("copy.faiss");
            Files.copy(parts.resolve(c0), copy);
            Files.move(copy, parts.resolve(c0), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Object replaced = Files.getAttribute(parts.resolve(c0), "unix:ino");

            Map<String, Object> secondFiles = inodes(manifest, IndexFiles.save(snapshot, manifest, first.written()));
            assertThat(secondFiles.get("c1")).as("c1 linked").isEqualTo(firstFiles.get("c1"));
            assertThat(secondFiles.get("c0")).as("c0 written").isNotEqualTo(replaced).isNotEqualTo(firstFiles.get("c0"));
        } finally {
            snapshot.release();
        }
    }

    @Test
    void held_ids_read_back_as_written_across_buffer_boundaries_and_in_the_old_layout() throws IOException {
        for (int n : new int[] {0, 1, 131_071, 131_072, 131_077, 300_001}) {
            long[] ids = TestVectors.distinctIds(n, n);
            Path file = temp.resolve("ids-" + n + ".bin");
            IndexFiles.writeIds(ids, file);
            assertThat(Files.size(file)).isEqualTo(4L + 8L * n);
            assertThat(IndexFiles.readIds(file)).as("%d ids", n).containsExactly(ids);
        }
        // The layout DataOutputStream wrote before: a big-endian count, then big-endian longs.
        Path old = temp.resolve("old-ids.bin");
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(Files.newOutputStream(old))) {
            out.writeInt(3);
            out.writeLong(7);
            out.writeLong(-2);
            out.writeLong(Long.MAX_VALUE);
        }
        assertThat(IndexFiles.readIds(old)).containsExactly(7, -2, Long.MAX_VALUE);
        // A file cut short is refused rather than read as fewer ids.
        Path cut = temp.resolve("cut-ids.bin");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(old), 20));
        assertThatThrownBy(() -> IndexFiles.readIds(cut)).isInstanceOf(IOException.class).hasMessageContaining("says 3 ids");
    }

    /** {@code perCategory} rows in each of {@code categories} clustered categories, numbered in order, by category. */
    private static Map<String, List<VectorRow>> rows(int categories, int perCategory, long seed) {
        List<VectorRow> rows = new ArrayList<>();
        long seq = 0;
        for (Labelled row : TestVectors.clustered(categories, perCategory, D, seed).values().stream()
                .flatMap(List::stream).toList()) {
            rows.add(new VectorRow(row.id(), row.category(), row.vector(), ++seq, seq));
        }
        return byCategory(rows);
    }

    private static Map<String, List<VectorRow>> byCategory(List<VectorRow> rows) {
        Map<String, List<VectorRow>> grouped = new HashMap<>();
        rows.forEach(row -> grouped.computeIfAbsent(row.category(), c -> new ArrayList<>()).add(row));
        return grouped;
    }

    /** Each category's file in a save's parts directory, by inode. */
    private static Map<String, Object> inodes(Path manifest, IndexFiles.Save save) throws IOException {
        return inodes(manifest, save.manifest());
    }

    /** Each category's file in the parts directory {@code contents} (the manifest at {@code manifest}) names, by inode. */
    static Map<String, Object> inodes(Path manifest, IndexFiles.Manifest contents) throws IOException {
        Map<String, Object> inodes = new HashMap<>();
        Path parts = manifest.resolveSibling(contents.partsDirectory());
        for (IndexFiles.Part part : contents.categories()) {
            inodes.put(part.category(), Files.getAttribute(parts.resolve(part.file()), "unix:ino"));
        }
        return inodes;
    }
}
