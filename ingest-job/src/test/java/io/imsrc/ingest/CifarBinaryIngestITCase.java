package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.record.ImageId;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.LocalHttpServer;
import io.imsrc.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class CifarBinaryIngestITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @TempDir Path temp;

    @Test
    void the_binary_archive_is_ingested_with_labels_png_images_and_exact_prototypes() throws Exception {
        List<CifarData.Sample> train = CifarData.sample("train", 6);
        List<CifarData.Sample> test = CifarData.sample("test", 2);
        Map<String, List<CifarData.BinaryRecord>> batches = new LinkedHashMap<>();
        batches.put("data_batch_1.bin", CifarData.records(train.subList(0, 30)));
        batches.put("data_batch_2.bin", CifarData.records(train.subList(30, 60)));
        batches.put("test_batch.bin", CifarData.records(test));
        Path archive = CifarData.writeBinaryArchive(temp.resolve("cifar-10-binary.tar.gz"), batches);
        TestDatabase db = TestDatabase.create("cifar", SchemaMigrations::migrate);

        IngestTopology.Summary summary = IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                .bulkSource(BulkSourceSpec.parse(archive + "#train"))
                .build());

        assertThat(summary.plannedImages()).isEqualTo(60);
        assertThat(db.count("SELECT count(*) FROM images WHERE source = 'cifar10'")).isEqualTo(60);
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(60);
        assertThat(db.count("SELECT count(*) FROM dead_letters")).isZero();
        // The labels are the archive's, in batches.meta.txt order.
        for (String category : List.of("airplane", "cat", "truck")) {
            assertThat(db.count("""
                    SELECT count(*) FROM images i JOIN categories c USING (category_id)
                    WHERE c.category_name = ? AND i.category_assignment = 'label'""", category)).isEqualTo(6);
        }
        // Stored as PNG holding exactly the record's pixels, under the id of those pixels.
        CifarData.BinaryRecord first = batches.get("data_batch_1.bin").get(0);
        Map<String, Object> row = db.rows("SELECT image_id, format, width, height, image_data, original_name FROM images "
                + "WHERE image_id = ?", ImageId.of(first.pixels())).get(0);
        assertThat(row.get("format")).isEqualTo("png");
        assertThat(row.get("width")).isEqualTo(32);
        assertThat(row.get("original_name")).isEqualTo("cifar-10-batches-bin/data_batch_1.bin#0");
        byte[] png = (byte[]) row.get("image_data");
        assertThat(CifarData.planarPixels(png)).isEqualTo(first.pixels());
        assertThat(ImageDecoder.decode(png).format().id()).isEqualTo("png");
        IngestFixtures.assertPrototypesAreExactMeans(db);

        // The test split on top: only its 20 images are new.
        IngestFixtures.ingest(db, temp, archive.toString());
        IngestFixtures.assertStored(db, 80, 80);
    }

    @Test
    void the_archive_is_downloaded_from_a_url_into_the_cache_and_ingested() throws Exception {
        Map<String, List<CifarData.BinaryRecord>> batches = new LinkedHashMap<>();
        batches.put("data_batch_1.bin", CifarData.records(CifarData.sample("train", 1)));
        batches.put("test_batch.bin", CifarData.records(CifarData.sample("test", 1)));
        byte[] archive = Files.readAllBytes(CifarData.writeBinaryArchive(temp.resolve("served.tar.gz"), batches));
        try (LocalHttpServer server = LocalHttpServer.serving("/~kriz/cifar-10-binary.tar.gz", archive)) {
            String url = server.url();
            TestDatabase db = TestDatabase.create("download", SchemaMigrations::migrate);

            IngestFixtures.ingest(db, temp, url + "#test");

            assertThat(db.count("SELECT count(*) FROM images WHERE source = 'cifar10'")).isEqualTo(10);
            try (var cached = Files.list(temp.resolve("cache"))) {
                assertThat(cached).singleElement().satisfies(f -> {
                    assertThat(f.getFileName().toString()).endsWith("-cifar-10-binary.tar.gz");
                    assertThat(f).hasBinaryContent(archive);
                });
            }
        }
    }
}
