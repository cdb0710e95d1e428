package io.imsrc.ingest.admit;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.admit.AdmissionBootstrap.StoredImage;
import io.imsrc.testing.TestDatabase;
import java.security.MessageDigest;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bootstrap's read of the stored images from a real PostgreSQL, in several fetches. */
class JdbcAdmissionBootstrapITCase {

    private static final int IMAGES = 2_500;
    private static final int FETCH_SIZE = 100;
    private static final List<String> CATEGORIES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
            "frog", "horse", "ship", "truck");

    @Test
    void every_stored_image_comes_once_with_its_vector_of_the_model_across_many_fetches() throws Exception {
        TestDatabase db = TestDatabase.create("bootstrap", SchemaMigrations::migrate);
        // Images 1..2500 under category 1 + id % 10; the odd ones have a vector of model m, the even
        // ones below 1000 one of another model only, which must not count.
        db.execute("""
                INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                    original_name, category_assignment)
                SELECT g, 1 + g %% 10, '\\x00'::bytea, 'png', 1, 1, sha256(int8send(g)), 'folder', 'i' || g, 'label'
                FROM generate_series(1, %d) g""".formatted(IMAGES));
        db.execute("INSERT INTO vectors (image_id, model_id, embedding) "
                + "SELECT g, 'm', ARRAY[g, 0.5]::real[] FROM generate_series(1, %d) g WHERE g %% 2 = 1".formatted(IMAGES));
        db.execute("INSERT INTO vectors (image_id, model_id, embedding) "
                + "SELECT g, 'other', ARRAY[1, 1]::real[] FROM generate_series(2, 1000, 2) g");

        Map<Long, StoredImage> seen = new HashMap<>();
        int[] visits = {0};
        new JdbcAdmissionBootstrap(new DatabaseOptions(db.jdbcUrl(), db.user(), null), "m", FETCH_SIZE)
                .forEachStoredImage(image -> {
                    visits[0]++;
                    seen.put(image.imageId(), image);
                });

        assertThat(IMAGES).as("more rows than one fetch").isGreaterThan(10 * FETCH_SIZE);
        assertThat(visits[0]).isEqualTo(IMAGES);
        assertThat(seen).hasSize(IMAGES);
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        for (long id = 1; id <= IMAGES; id++) {
            StoredImage image = seen.get(id);
            assertThat(image.category()).isEqualTo(CATEGORIES.get((int) (id % 10)));
            assertThat(image.sha256()).isEqualTo(sha256.digest(ByteBuffer.allocate(8).putLong(id).array()));
            if (id % 2 == 1) {
                assertThat(image.vector()).containsExactly((float) id, 0.5f);
            } else {
                assertThat(image.vector()).as("image %d has no vector of model m", id).isNull();
            }
        }
    }
}
