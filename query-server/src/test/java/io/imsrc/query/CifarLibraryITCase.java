package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.record.ImageId;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library of real CIFAR-10 embeddings holds what it promises, on a real embedded PostgreSQL. */
class CifarLibraryITCase {

    @TempDir
    Path models;

    @Test
    void test_originals_then_training_variants_each_distinct_with_the_vector_the_job_would_compute() throws Exception {
        TestDatabase catalog = TestDatabase.create("cifarlib", SchemaMigrations::migrate);
        CifarLibrary.Sources sources = CifarLibrary.read(SharedFiles.cifar10JpgArchive());
        assertThat(sources.test()).hasSize(10_000);
        assertThat(sources.train()).hasSize(50_000);
        EmbedderOptions options = EmbedderOptions.builder().device(Device.CPU).intraOpThreads(1).modelCacheDir(models)
                .build();
        try (Embedder embedder = Embedder.load(ModelDescription.DEFAULT, options); Connection c = catalog.connect()) {
            String model = embedder.modelId().value();
            // 30 test originals; then, appended, the last 10 training originals and the first 30
            // mirror images (the sequence's images 59,990 to 60,029).
            assertThat(CifarLibrary.fill(c, embedder, sources, new CifarLibrary.Spec(0, 30), 2)).isEqualTo(30);
            assertThat(CifarLibrary.fill(c, embedder, sources, new CifarLibrary.Spec(59_990, 40), 1))
                    .isEqualTo(60_030);

            try (Statement s = c.createStatement()) {
                ResultSet counts = s.executeQuery("SELECT count(*), count(DISTINCT content_hash), "
                        + "count(*) FILTER (WHERE original_name LIKE 'cifar-test/%'), "
                        + "count(*) FILTER (WHERE original_name LIKE 'cifar-train/%-crop-4-4-flip.jpg'), "
                        + "(SELECT count(*) FROM vectors WHERE model_id = '" + model + "') FROM images");
                counts.next();
                assertThat(counts.getLong(1)).isEqualTo(70);
                assertThat(counts.getLong(2)).isEqualTo(70);
                assertThat(counts.getLong(3)).isEqualTo(30);
                assertThat(counts.getLong(4)).isEqualTo(30);
                assertThat(counts.getLong(5)).isEqualTo(70);

                // Classes take turns: 3 test, 1 training original and 3 mirrors of each class.
                ResultSet classes = s.executeQuery("SELECT c.category_name, count(*) FROM images i "
                        + "JOIN categories c USING (category_id) GROUP BY c.category_name");
                Map<String, Long> perClass = new HashMap<>();
                while (classes.next()) {
                    perClass.put(classes.getString(1), classes.getLong(2));
                }
                assertThat(perClass).hasSize(10).allSatisfy((name, count) -> assertThat(count).isEqualTo(7));

                ResultSet images = s.executeQuery("SELECT image_id, image_data, content_hash FROM images");
                while (images.next()) {
                    byte[] data = images.getBytes(2);
                    assertThat(images.getLong(1)).isEqualTo(ImageId.of(data));
                    assertThat(images.getBytes(3)).isEqualTo(ImageId.sha256(data));
                }
            }

            // A test original is stored unchanged, under its archive name.
            assertThat(stored(c, "cifar-test/airplane/0000.jpg")).isEqualTo(sources.test().get(0).jpeg());

            // A variant's vector is the model's on the decoded stored bytes, as the job computes it.
            String variant = "cifar-train/airplane/0000-crop-4-4-flip.jpg";
            byte[] bytes = stored(c, variant);
            float[] expected = embedder.embed(List.of(ModelDescription.DEFAULT.preprocess(ImageDecoder.decode(bytes))))
                    .get(0).vector();
            try (PreparedStatement q = c.prepareStatement("SELECT v.embedding, c.category_name FROM vectors v "
                    + "JOIN images i USING (image_id) JOIN categories c USING (category_id) WHERE i.original_name = ?")) {
                q.setString(1, variant);
                try (ResultSet r = q.executeQuery()) {
                    assertThat(r.next()).isTrue();
                    Float[] vector = (Float[]) r.getArray(1).getArray();
                    assertThat(vector).hasSize(expected.length);
                    for (int d = 0; d < expected.length; d++) {
                        assertThat((double) vector[d]).isCloseTo(expected[d], within(1e-5));
                    }
                    assertThat(r.getString(2)).isEqualTo("airplane");
                }
            }
            assertThat(catalog.count("SELECT count(*) FROM _category_prototypes WHERE model_id = ? AND image_count = 7",
                    model)).isEqualTo(10);
        }
    }

    private static byte[] stored(Connection c, String name) throws Exception {
        try (PreparedStatement q = c.prepareStatement("SELECT image_data FROM images WHERE original_name = ?")) {
            q.setString(1, name);
            try (ResultSet r = q.executeQuery()) {
                assertThat(r.next()).as(name).isTrue();
                return r.getBytes(1);
            }
        }
    }
}
