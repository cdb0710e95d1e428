package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.ImsrcConfig.FlinkConfig.StateBackend;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Fresh jobs over data that is partly stored already: nothing is stored or counted twice. */
class ReingestITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @TempDir Path temp;

    private List<Map<String, Object>> snapshot(TestDatabase db) throws Exception {
        return db.rows("""
                SELECT i.image_id, c.category_name, i.content_hash, v.embedding
                FROM images i JOIN categories c USING (category_id) JOIN vectors v USING (image_id)
                ORDER BY i.image_id""");
    }

    /** A fresh job over {@code folder} with {@code backend}: it bootstraps its state from PostgreSQL into it. */
    private void ingest(TestDatabase db, StateBackend backend, Path folder) throws Exception {
        IngestFixtures.runToEnd(IngestFixtures.options(db, temp).stateBackend(backend)
                .bulkSource(BulkSourceSpec.parse(folder.toString())).build());
    }

    @ParameterizedTest
    @EnumSource(StateBackend.class)
    void a_second_fresh_job_over_the_same_source_plus_new_images_keeps_prototypes_exact(StateBackend backend)
            throws Exception {
        List<CifarData.Sample> first = CifarData.sample("train", 4);
        List<CifarData.Sample> more = CifarData.sample("train", 6);
        Path folderA = CifarData.writeFolder(temp.resolve("a"), CifarData.asFiles(first));
        Path folderB = CifarData.writeFolder(temp.resolve("b"), CifarData.asFiles(more)); // a superset of A
        TestDatabase db = TestDatabase.create("reingest", SchemaMigrations::migrate);

        ingest(db, backend, folderA);
        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(40);
        var afterFirst = snapshot(db);
        IngestFixtures.assertPrototypesAreExactMeans(db);

        // The same source again: a fresh job rebuilds its state from PostgreSQL and adds nothing.
        ingest(db, backend, folderA);
        assertThat(snapshot(db)).usingRecursiveComparison().isEqualTo(afterFirst);
        IngestFixtures.assertPrototypesAreExactMeans(db);
        assertThat(db.prototypes(IngestFixtures.resnet20ModelId()).get("cat").count()).isEqualTo(4);

        // The same images plus 20 new ones, from another folder (so other paths): only the new count.
        ingest(db, backend, folderB);
        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(60);
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(60);
        assertThat(db.prototypes(IngestFixtures.resnet20ModelId()).get("cat").count()).isEqualTo(6);
        IngestFixtures.assertPrototypesAreExactMeans(db);
        assertThat(db.count("SELECT count(*) FROM dead_letters")).isZero();
    }

    @Test
    void the_same_image_twice_in_one_source_is_stored_and_counted_once() throws Exception {
        List<CifarData.Sample> samples = CifarData.sample("train", 2);
        Map<String, byte[]> files = new java.util.LinkedHashMap<>(CifarData.asFiles(samples));
        files.put("cifar-10-jpg/train/cat/copy-of-a-dog.jpg", samples.get(10).bytes()); // a dog's bytes under cat
        Path folder = CifarData.writeFolder(temp.resolve("dup"), files);
        TestDatabase db = TestDatabase.create("dup", SchemaMigrations::migrate);

        IngestFixtures.ingest(db, temp, folder.toString());

        IngestFixtures.assertStored(db, 20, 20);
    }

    @Test
    void images_stored_without_a_vector_of_the_model_get_one_under_their_stored_category() throws Exception {
        List<CifarData.Sample> samples = CifarData.sample("train", 3);
        Path folder = CifarData.writeFolder(temp.resolve("v"), CifarData.asFiles(samples));
        TestDatabase db = TestDatabase.create("novector", SchemaMigrations::migrate);
        IngestFixtures.ingest(db, temp, folder.toString());
        var complete = snapshot(db);
        // As if another model had ingested them: the images stay, this model's vectors and prototypes go.
        db.execute("DELETE FROM vectors WHERE image_id IN (SELECT image_id FROM images ORDER BY image_id LIMIT 12)");
        db.execute("DELETE FROM _category_prototypes");
        // And one of them is re-filed under another category by hand.
        db.execute("UPDATE images SET category_id = (SELECT category_id FROM categories WHERE category_name = 'frog') "
                + "WHERE image_id = (SELECT min(image_id) FROM images)");

        IngestFixtures.ingest(db, temp, folder.toString());

        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(30);
        assertThat(snapshot(db)).hasSameSizeAs(complete);
        assertThat(db.count("""
                SELECT count(*) FROM images i JOIN categories c USING (category_id)
                WHERE c.category_name = 'frog'""")).isEqualTo(4);
        IngestFixtures.assertPrototypesAreExactMeans(db);
    }
}
