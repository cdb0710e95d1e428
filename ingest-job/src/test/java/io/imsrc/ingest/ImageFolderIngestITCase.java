package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderIngestITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @TempDir Path temp;

    /** 30 labelled training images, 2 unlabelled test images at the root, and some debris. */
    private static Map<String, byte[]> folderContent() throws Exception {
        List<CifarData.Sample> labelled = CifarData.sample("train", 3);
        List<CifarData.Sample> unlabelled = CifarData.sample("test", 1);
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (CifarData.Sample s : labelled) {
            files.put("photos/" + s.category() + "/" + s.path().substring(s.path().lastIndexOf('/') + 1), s.bytes());
        }
        files.put("photos/" + "ship-at-root.jpg", unlabelled.get(8).bytes());
        files.put("photos/" + "cat-at-root.jpg", unlabelled.get(3).bytes());
        files.put("photos/.DS_Store", new byte[] {0, 0, 0, 1});
        files.put("photos/cat/.hidden.jpg", labelled.get(0).bytes());
        files.put("elsewhere/dog/outside-the-root.jpg", labelled.get(1).bytes());
        return files;
    }

    private static void assertFolderIngested(TestDatabase db) throws Exception {
        assertThat(db.count("SELECT count(*) FROM images WHERE source = 'folder'")).isEqualTo(32);
        assertThat(db.count("SELECT count(*) FROM images WHERE category_assignment = 'label'")).isEqualTo(30);
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(32);
        assertThat(db.count("SELECT count(*) FROM dead_letters")).isZero();
        // An image with no folder above it under the root gets the model's prediction.
        List<Map<String, Object>> predicted = db.rows("""
                SELECT i.original_name, c.category_name, i.category_confidence
                FROM images i JOIN categories c USING (category_id)
                WHERE i.category_assignment = 'predicted' ORDER BY i.original_name""");
        assertThat(predicted).hasSize(2);
        assertThat(predicted.get(0).get("category_name")).isEqualTo("cat");
        assertThat(predicted.get(1).get("category_name")).isEqualTo("ship");
        assertThat((Float) predicted.get(0).get("category_confidence")).isBetween(0f, 1f);
        assertThat(db.count("""
                SELECT count(*) FROM images i JOIN categories c USING (category_id)
                WHERE c.category_name = 'horse' AND i.category_assignment = 'label'""")).isEqualTo(3);
        IngestFixtures.assertPrototypesAreExactMeans(db);
    }

    @Test
    void a_folder_is_ingested_with_the_directory_above_each_image_as_its_category() throws Exception {
        Path folder = CifarData.writeFolder(temp.resolve("folder"), folderContent());
        TestDatabase db = TestDatabase.create("folder", SchemaMigrations::migrate);

        IngestTopology.Summary summary = IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                .bulkSource(BulkSourceSpec.parse(folder + "#photos")).build());

        assertThat(summary.plannedImages()).isEqualTo(32);
        assertFolderIngested(db);
        Map<String, Object> row = db.rows("SELECT original_name, format, image_data FROM images WHERE image_id = ?",
                ImageId.of(CifarData.sample("train", 3).get(0).bytes())).get(0);
        assertThat(row.get("original_name")).isEqualTo("photos/airplane/0000.jpg");
        assertThat(row.get("format")).isEqualTo("jpeg");
        assertThat(row.get("image_data")).as("the original bytes, not re-encoded")
                .isEqualTo(CifarData.sample("train", 3).get(0).bytes());
    }

    @Test
    void tar_tar_gz_and_zip_archives_hold_the_same_images_as_the_folder() throws Exception {
        Map<String, byte[]> content = folderContent();
        Path tarGz = CifarData.writeTar(temp.resolve("images.tar.gz"), content, true);
        Path tar = CifarData.writeTar(temp.resolve("images.tar"), content, false);
        Path zip = CifarData.writeZip(temp.resolve("images.zip"), content);

        for (Path archive : List.of(tarGz, tar, zip)) {
            TestDatabase db = TestDatabase.create("archive", SchemaMigrations::migrate);
            IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                    .bulkSource(BulkSourceSpec.parse(archive + "#photos")).build());
            assertFolderIngested(db);
        }
    }

    @Test
    void a_limit_spreads_over_every_class_of_the_real_archive() throws Exception {
        TestDatabase db = TestDatabase.create("limit", SchemaMigrations::migrate);
        Path archive = io.imsrc.testing.SharedFiles.cifar10JpgArchive();

        IngestTopology.Summary summary = IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                .bulkSource(BulkSourceSpec.parse(archive + "#cifar-10-jpg/test").withLimit(200)).build());

        assertThat(summary.plannedImages()).isEqualTo(200);
        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(200);
        for (Map<String, Object> row : db.rows("""
                SELECT c.category_name, count(*) AS n FROM images i JOIN categories c USING (category_id)
                GROUP BY c.category_name""")) {
            assertThat((Long) row.get("n")).as("images of %s", row.get("category_name")).isEqualTo(20);
        }
        assertThat(db.count("SELECT count(DISTINCT category_id) FROM images")).isEqualTo(10);
        IngestFixtures.assertPrototypesAreExactMeans(db);
    }

    @Test
    void a_watched_folder_ingests_images_dropped_into_it() throws Exception {
        Path folder = Files.createDirectories(temp.resolve("inbox"));
        CifarData.writeFolder(folder, Map.of("deer/first.jpg", CifarData.sample("train", 1).get(4).bytes()));
        TestDatabase db = TestDatabase.create("watch", SchemaMigrations::migrate);
        var job = IngestFixtures.start(IngestFixtures.options(db, temp)
                .bulkSource(BulkSourceSpec.parse(folder.toString()).watching()).build());
        try {
            Waiting.until(() -> db.count("SELECT count(*) FROM vectors") == 1, "the first image to be ingested");

            List<CifarData.Sample> more = CifarData.sample("train", 2);
            // Written elsewhere and moved in, as a careful producer does; the settle time covers the rest.
            Path staging = Files.createDirectories(temp.resolve("staging"));
            Files.write(staging.resolve("a.jpg"), more.get(1).bytes());
            Files.write(staging.resolve("b.jpg"), more.get(3).bytes());
            Files.createDirectories(folder.resolve("horse"));
            Files.move(staging.resolve("a.jpg"), folder.resolve("horse/a.jpg"));
            Files.move(staging.resolve("b.jpg"), folder.resolve("horse/b.jpg"));
            Files.write(folder.resolve("notes.txt"), "not an image".getBytes(StandardCharsets.UTF_8));

            Waiting.until(() -> db.count("SELECT count(*) FROM vectors") == 3
                    && db.count("SELECT count(*) FROM dead_letters WHERE reason = 'NOT_AN_IMAGE'") == 1,
                    "the dropped images to be ingested and the text file refused");
            Waiting.until(() -> db.count("SELECT coalesce(max(image_count), 0) FROM _category_prototypes p JOIN categories c "
                    + "USING (category_id) WHERE c.category_name = 'horse'") == 2, "the horse prototype");
            IngestFixtures.assertPrototypesAreExactMeans(db);
        } finally {
            job.cancel().get();
        }
    }
}
