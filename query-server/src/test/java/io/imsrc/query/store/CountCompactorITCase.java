package io.imsrc.query.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The catalog's counts read from the maintained deltas answer what counting the tables answered,
 * before and after the compactor folds the deltas, which it does only once there are many.
 */
class CountCompactorITCase {

    private static final String MODEL = "m";

    /** What {@link Catalog#categories} answered before V5: the GROUP BY over every image. */
    private static final String CATEGORIES_BY_COUNTING = """
            SELECT c.category_name, count(i.image_id), count(v.image_id), p.image_count
            FROM categories c
            JOIN images i ON i.category_id = c.category_id
            LEFT JOIN vectors v ON v.image_id = i.image_id AND v.model_id = ?
            LEFT JOIN _category_prototypes p ON p.category_id = c.category_id AND p.model_id = ?
            GROUP BY c.category_name, p.image_count
            ORDER BY c.category_name""";

    @Test
    void the_catalog_counts_as_before_and_the_compactor_folds_the_deltas_only_once_they_are_many() throws Exception {
        TestDatabase db = TestDatabase.create("compactor", SchemaMigrations::migrate);
        // Twenty statements as the job's batches write them, spread over three categories; image 1 of
        // each batch without a vector of the server's model, a few of another model.
        for (int batch = 0; batch < 20; batch++) {
            long first = 1 + batch * 10L;
            db.execute("INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, "
                    + "source, category_assignment) SELECT g, 1 + g % 3, '\\x00', 'png', 1, 1, sha256(int8send(g)), "
                    + "'folder', 'label' FROM generate_series(" + first + ", " + (first + 9) + ") g");
            db.execute("INSERT INTO vectors (image_id, model_id, embedding) SELECT g, '" + MODEL + "', '{1,0}' "
                    + "FROM generate_series(" + (first + 1) + ", " + (first + 9) + ") g");
        }
        db.execute("INSERT INTO vectors (image_id, model_id, embedding) SELECT g, 'other', '{1,0}' FROM generate_series(1, 7) g");
        db.execute("DELETE FROM images WHERE image_id IN (5, 6)");
        db.execute("INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count) VALUES (2, 'm', '{1,0}', 4)");
        db.execute("INSERT INTO uploads (image_id, state, received_at) SELECT g, 'queued', now() FROM generate_series(1, 4) g");
        db.execute("UPDATE uploads SET state = 'indexed' WHERE image_id = 2");
        db.execute("INSERT INTO dead_letters (source, reason, record_key) VALUES ('folder', 'TRUNCATED', 'a')");

        Catalog catalog = new Catalog(db.dataSource(), MODEL);
        List<List<Object>> counted = categoriesByCounting(db);
        Catalog.Counts counts = catalog.counts();
        assertThat(rows(catalog.categories())).isEqualTo(counted);
        assertThat(counts).isEqualTo(new Catalog.Counts(198, 178, 1, Map.of("queued", 3L, "indexed", 1L, "rejected", 0L)));

        long deltas = db.count("SELECT count(*) FROM catalog_counts");
        assertThat(new CountCompactor(db.dataSource(), new CountCompactor.Settings(Duration.ofSeconds(1), deltas))
                .compactIfLarge()).as("no more rows than it leaves alone").isZero();
        assertThat(db.count("SELECT count(*) FROM catalog_counts")).isEqualTo(deltas);

        try (CountCompactor compactor = new CountCompactor(db.dataSource(),
                new CountCompactor.Settings(Duration.ofMillis(50), deltas - 1)).start()) {
            Waiting.until(() -> db.count("SELECT count(*) FROM catalog_counts") < deltas, "the compactor to fold the deltas",
                    Duration.ofSeconds(60));
        }
        // One row per key: three categories' images, their vectors of two models, two upload states, the dead letters.
        assertThat(db.count("SELECT count(*) FROM catalog_counts")).isEqualTo(3 + 6 + 2 + 1);
        assertThat(rows(catalog.categories())).isEqualTo(counted);
        assertThat(catalog.counts()).isEqualTo(counts);
    }

    private static List<List<Object>> rows(List<Catalog.CategoryStats> stats) {
        List<List<Object>> rows = new ArrayList<>();
        for (Catalog.CategoryStats s : stats) {
            rows.add(Arrays.asList(s.category(), s.images(), s.vectors(), s.prototypeImageCount()));
        }
        return rows;
    }

    private static List<List<Object>> categoriesByCounting(TestDatabase db) throws Exception {
        List<List<Object>> rows = new ArrayList<>();
        try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(CATEGORIES_BY_COUNTING)) {
            s.setString(1, MODEL);
            s.setString(2, MODEL);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long prototype = rs.getLong(4);
                    Long prototypeCount = rs.wasNull() ? null : prototype;
                    rows.add(Arrays.asList(rs.getString(1), rs.getLong(2), rs.getLong(3), prototypeCount));
                }
            }
        }
        return rows;
    }
}
