package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmarks' synthetic library holds what it promises, on a real embedded PostgreSQL. */
class SyntheticLibraryITCase {

    private static final String MODEL = "synthetic-16d-000000000000";

    @Test
    void images_are_distinct_vectors_unit_and_clustered_and_prototypes_their_means() throws Exception {
        TestDatabase catalog = TestDatabase.create("synthetic", SchemaMigrations::migrate);
        try (Connection c = catalog.connect()) {
            SyntheticLibrary.fill(c, new SyntheticLibrary.Spec(MODEL, 0, 25_000, 16, 12, 0.75, 7));
            // A second call appends distinct images and merges the prototypes.
            SyntheticLibrary.fill(c, new SyntheticLibrary.Spec(MODEL, 25_000, 5_000, 16, 12, 0.75, 7));

            try (Statement s = c.createStatement()) {
                ResultSet counts = s.executeQuery("SELECT count(*), count(DISTINCT category_id), "
                        + "(SELECT count(*) FROM vectors WHERE model_id = '" + MODEL + "') FROM images");
                counts.next();
                assertThat(counts.getLong(1)).isEqualTo(30_000);
                assertThat(counts.getInt(2)).isEqualTo(12);
                assertThat(counts.getLong(3)).isEqualTo(30_000);

                // Ids and hashes are the ones the job computes from the stored bytes.
                ResultSet images = s.executeQuery("SELECT image_id, image_data, content_hash FROM images LIMIT 200");
                while (images.next()) {
                    byte[] data = images.getBytes(2);
                    assertThat(images.getLong(1)).isEqualTo(ImageId.of(data));
                    assertThat(images.getBytes(3)).isEqualTo(ImageId.sha256(data));
                }

                Map<Integer, double[]> sums = new HashMap<>();
                Map<Integer, Long> perCategory = new HashMap<>();
                ResultSet vectors = s.executeQuery("SELECT i.category_id, v.embedding FROM vectors v "
                        + "JOIN images i USING (image_id) WHERE v.model_id = '" + MODEL + "'");
                while (vectors.next()) {
                    Float[] e = (Float[]) vectors.getArray(2).getArray();
                    double norm = 0;
                    double[] sum = sums.computeIfAbsent(vectors.getInt(1), k -> new double[16]);
                    for (int d = 0; d < e.length; d++) {
                        norm += e[d] * e[d];
                        sum[d] += e[d];
                    }
                    assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-5));
                    perCategory.merge(vectors.getInt(1), 1L, Long::sum);
                }
                ResultSet prototypes = s.executeQuery("SELECT category_id, prototype, image_count "
                        + "FROM _category_prototypes WHERE model_id = '" + MODEL + "'");
                int seen = 0;
                while (prototypes.next()) {
                    seen++;
                    int category = prototypes.getInt(1);
                    long count = prototypes.getLong(3);
                    assertThat(count).isEqualTo(perCategory.get(category));
                    Float[] prototype = (Float[]) prototypes.getArray(2).getArray();
                    double cosine = 0;
                    double norm = 0;
                    for (int d = 0; d < 16; d++) {
                        double mean = sums.get(category)[d] / count;
                        assertThat((double) prototype[d]).isCloseTo(mean, within(1e-5));
                        norm += mean * mean;
                    }
                    // Clustered: a category's vectors lie near its centre, so their mean is long
                    // (a vector's cosine with the centre is about 0.8 at spread 0.75).
                    assertThat(Math.sqrt(norm)).isBetween(0.7, 0.9);
                }
                assertThat(seen).isEqualTo(12);
            }
        }
    }
}
