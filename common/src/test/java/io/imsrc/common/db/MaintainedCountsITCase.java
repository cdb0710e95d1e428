package io.imsrc.common.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.testing.Waiting;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * The counts V5's triggers keep in catalog_counts, held after every step against the GROUP BY they
 * replace, for writes as plain SQL and imsrc's own statements make them.
 */
class MaintainedCountsITCase {

    /** What catalog_counts must sum to: the counts taken the slow way. */
    private static final String TRUTH = """
            SELECT 'images', category_id::text, NULL, NULL, count(*) FROM images GROUP BY category_id
            UNION ALL
            SELECT 'vectors', i.category_id::text, v.model_id, NULL, count(*)
            FROM vectors v JOIN images i ON i.image_id = v.image_id GROUP BY i.category_id, v.model_id
            UNION ALL
            SELECT 'uploads', NULL, NULL, state, count(*) FROM uploads GROUP BY state
            UNION ALL
            SELECT 'dead_letters', NULL, NULL, NULL, count(*) FROM dead_letters HAVING count(*) > 0
            """;

    private static final String MAINTAINED = """
            SELECT counter, category_id::text, model_id, upload_state, sum(delta) FROM catalog_counts
            GROUP BY counter, category_id, model_id, upload_state HAVING sum(delta) <> 0
            """;

    private EmbeddedPostgresServer.Database db;

    @BeforeEach
    void freshDatabase() {
        db = SharedPostgres.createDatabase("counts");
    }

    @Test
    void the_counts_follow_inserts_conflicts_updates_deletes_and_cascades() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        step("images in three categories", insertImages(1, 30, "1 + g % 3"));
        step("a replay of some and a few new ones, ON CONFLICT DO NOTHING",
                insertImages(25, 35, "1 + g % 3") + " ON CONFLICT DO NOTHING");
        step("vectors of two models", insertVectors(1, 20, "m") + "; " + insertVectors(5, 30, "x"));
        step("vectors again, ON CONFLICT DO NOTHING", insertVectors(15, 25, "m") + " ON CONFLICT DO NOTHING");
        // The ingest job's pattern: an image and its vector in one statement, replayed.
        String imageWithVector = "WITH i AS (" + insertImages(40, 44, "7") + " ON CONFLICT DO NOTHING) "
                + insertVectors(40, 44, "m") + " ON CONFLICT DO NOTHING";
        step("an image and its vector in one statement", imageWithVector);
        step("the same statement replayed", imageWithVector);
        step("images moved to another category take their vectors along",
                "UPDATE images SET category_id = 5 WHERE image_id BETWEEN 10 AND 14");
        step("an update that moves nothing", "UPDATE images SET original_name = 'renamed'");
        step("vectors moved to another model", "UPDATE vectors SET model_id = 'y' WHERE image_id IN (20, 21) AND model_id = 'x'");
        step("vectors deleted", "DELETE FROM vectors WHERE image_id IN (1, 2, 3) AND model_id = 'm'");
        step("images deleted, their vectors with them (ON DELETE CASCADE)", "DELETE FROM images WHERE image_id IN (11, 12, 29)");
        step("an image without vectors deleted", "DELETE FROM images WHERE image_id = 35");
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("DELETE FROM vectors WHERE image_id = 8");
            s.execute("DELETE FROM images WHERE image_id = 8");
            c.commit();
        }
        assertThat(maintained()).as("a vector and its image deleted in two statements of one transaction")
                .isEqualTo(truth());

        step("uploads queued", "INSERT INTO uploads (image_id, state, received_at) SELECT g, 'queued', now() "
                + "FROM generate_series(1, 10) g");
        step("published (no state changes)", "UPDATE uploads SET published_at = now() WHERE state = 'queued'");
        step("indexed, ON CONFLICT DO UPDATE, in two CTEs of one statement as the job's batch does",
                "WITH indexed AS (INSERT INTO uploads (image_id, state, received_at) SELECT g, 'indexed', now() "
                        + "FROM generate_series(5, 12) g ON CONFLICT (image_id) DO UPDATE SET state = 'indexed', reason = NULL), "
                        + "rejected AS (INSERT INTO uploads (image_id, state, reason, received_at) SELECT g, 'rejected', "
                        + "'HASH_COLLISION', now() FROM generate_series(1, 20) g WHERE g NOT BETWEEN 5 AND 12 ON CONFLICT (image_id) DO UPDATE "
                        + "SET state = 'rejected', reason = EXCLUDED.reason WHERE uploads.state <> 'indexed') "
                        + "SELECT 1");
        step("a conflict whose WHERE leaves the row alone", "INSERT INTO uploads (image_id, state, received_at) "
                + "VALUES (5, 'queued', now()) ON CONFLICT (image_id) DO UPDATE SET state = 'queued' "
                + "WHERE uploads.state <> 'indexed'");
        step("a rejected upload queued again", "INSERT INTO uploads (image_id, state, received_at) "
                + "VALUES (17, 'queued', now()) ON CONFLICT (image_id) DO UPDATE SET state = 'queued', reason = NULL "
                + "WHERE uploads.state <> 'indexed'");
        step("an upload forgotten", "DELETE FROM uploads WHERE image_id = 17");

        step("dead letters", "INSERT INTO dead_letters (source, reason, record_key) VALUES "
                + "('folder', 'TRUNCATED', 'a'), ('folder', 'TRUNCATED', 'b'), ('upload', 'NOT_PUBLISHED', '3')");
        step("a dead letter replayed", "INSERT INTO dead_letters (source, reason, record_key) "
                + "VALUES ('folder', 'TRUNCATED', 'a') ON CONFLICT DO NOTHING");
        step("a dead letter deleted", "DELETE FROM dead_letters WHERE record_key = 'b'");

        step("compacted", "SELECT imsrc_compact_counts()");
        assertThat(rowsOfCounts()).as("one row per key after compaction").isEqualTo(truth().size());

        step("everything truncated", "TRUNCATE images, vectors, uploads, dead_letters");
        step("compacted to nothing", "SELECT imsrc_compact_counts()");
        assertThat(rowsOfCounts()).as("zero sums dropped").isZero();
    }

    @Test
    void a_copy_is_counted_like_an_insert() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        try (Connection c = db.dataSource().getConnection()) {
            StringBuilder images = new StringBuilder();
            StringBuilder vectors = new StringBuilder();
            for (int id = 1; id <= 500; id++) {
                images.append(id).append('\t').append(1 + id % 10).append("\t\\\\x00\tpng\t1\t1\t\\\\x")
                        .append(String.format("%064x", id)).append("\tfolder\tlabel\n");
                vectors.append(id).append("\tm\t{1,0}\n");
            }
            var copy = c.unwrap(PGConnection.class).getCopyAPI();
            copy.copyIn("COPY images (image_id, category_id, image_data, format, width, height, content_hash, source, "
                    + "category_assignment) FROM STDIN", new StringReader(images.toString()));
            copy.copyIn("COPY vectors (image_id, model_id, embedding) FROM STDIN", new StringReader(vectors.toString()));
        }
        assertThat(maintained()).isEqualTo(truth());
        assertThat(truth()).containsEntry("vectors/1/m/null", 50L);
    }

    @Test
    void deleting_a_vector_and_its_image_at_once_from_two_transactions_subtracts_it_once() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        execute(insertImages(1, 2, "1") + "; " + insertVectors(1, 2, "m"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection vectorDeleter = db.dataSource().getConnection(); Statement s = vectorDeleter.createStatement()) {
            vectorDeleter.setAutoCommit(false);
            s.execute("DELETE FROM vectors WHERE image_id = 1"); // counted, its image locked until commit
            Future<?> imageDelete = pool.submit(() -> {
                try (Connection c = db.dataSource().getConnection(); Statement d = c.createStatement()) {
                    d.execute("SET application_name = 'image-delete'");
                    d.execute("DELETE FROM images WHERE image_id = 1");
                }
                return null;
            });
            Waiting.until(() -> queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'image-delete' "
                    + "AND wait_event_type = 'Lock'") == 1, "the image's delete to wait on the vector's", Duration.ofSeconds(60));
            vectorDeleter.commit();
            imageDelete.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(maintained()).isEqualTo(truth());
        assertThat(truth()).containsEntry("images/1/null/null", 1L).containsEntry("vectors/1/m/null", 1L);
    }

    @Test
    void a_statement_that_deletes_vectors_and_their_images_together_is_mended_by_a_recount() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        execute(insertImages(1, 4, "2") + "; " + insertVectors(1, 4, "m"));
        // The case V5 says its triggers miss: the vectors' statement trigger runs once their images are gone.
        execute("WITH v AS (DELETE FROM vectors WHERE image_id <= 2 RETURNING image_id) "
                + "DELETE FROM images WHERE image_id IN (SELECT image_id FROM v)");
        execute("SELECT imsrc_recount()");
        assertThat(maintained()).isEqualTo(truth());
        assertThat(truth()).containsEntry("vectors/2/m/null", 2L);
    }

    @Test
    void migrating_to_v5_counts_what_the_database_held_before() throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            SchemaMigrations.migrate(c, 4);
        }
        execute(insertImages(1, 50, "1 + g % 4") + "; " + insertVectors(1, 40, "m") + "; " + insertVectors(30, 50, "x"));
        execute("INSERT INTO uploads (image_id, state, received_at) SELECT g, CASE WHEN g % 2 = 0 THEN 'indexed' "
                + "ELSE 'queued' END, now() FROM generate_series(1, 9) g");
        execute("INSERT INTO dead_letters (source, reason, record_key) VALUES ('folder', 'TRUNCATED', 'a')");

        assertThat(SchemaMigrations.migrate(db.dataSource())).containsExactly(5);
        assertThat(maintained()).isEqualTo(truth());
        assertThat(truth()).containsEntry("vectors/2/x/null", 5L).containsEntry("uploads/null/null/queued", 5L);
    }

    @Test
    void compactions_running_at_once_beside_writers_keep_every_count_exact() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        int writers = 3;
        int compactors = 3;
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger compactions = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(writers + compactors);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                long base = 1 + w * 1_000_000L;
                Random random = new Random(w);
                writes.add(pool.submit(() -> {
                    try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                        for (int round = 0; round < 40; round++) {
                            long first = base + round * 10L;
                            s.execute(insertImages(first, first + 9, "1 + (g + " + random.nextInt(10) + ") % 10"));
                            s.execute(insertVectors(first, first + 9 - random.nextInt(3), "m"));
                            s.execute("INSERT INTO uploads (image_id, state, received_at) SELECT g, 'queued', now() "
                                    + "FROM generate_series(" + first + ", " + (first + 4) + ") g");
                            s.execute("UPDATE uploads SET state = 'indexed' WHERE image_id = " + (first + random.nextInt(5)));
                            s.execute("DELETE FROM images WHERE image_id = " + (first + random.nextInt(10)));
                            s.execute("INSERT INTO dead_letters (source, reason, record_key) VALUES ('folder', 'TRUNCATED', '"
                                    + first + "')");
                        }
                    }
                    return null;
                }));
            }
            List<Future<?>> compacting = new ArrayList<>();
            for (int k = 0; k < compactors; k++) {
                compacting.add(pool.submit(() -> {
                    try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                        while (writing.get()) {
                            s.execute("SELECT imsrc_compact_counts()");
                            compactions.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : writes) {
                f.get(5, TimeUnit.MINUTES);
            }
            writing.set(false);
            for (Future<?> f : compacting) {
                f.get(1, TimeUnit.MINUTES);
            }
        } finally {
            writing.set(false);
            pool.shutdownNow();
        }
        assertThat(compactions.get()).as("compactions that ran beside the writers").isGreaterThan(compactors);
        assertThat(maintained()).isEqualTo(truth());
        assertThat(truth()).containsEntry("dead_letters/null/null/null", writers * 40L);
    }

    private void step(String what, String sql) throws SQLException {
        execute(sql);
        assertThat(maintained()).as("the counts after: " + what).isEqualTo(truth());
    }

    private static String insertImages(long first, long last, String categoryOfG) {
        return "INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source, "
                + "category_assignment) SELECT g, " + categoryOfG + ", '\\x00', 'png', 1, 1, sha256(int8send(g)), "
                + "'folder', 'label' FROM generate_series(" + first + ", " + last + ") g";
    }

    private static String insertVectors(long first, long last, String model) {
        return "INSERT INTO vectors (image_id, model_id, embedding) SELECT g, '" + model + "', '{1,0}' "
                + "FROM generate_series(" + first + ", " + last + ") g";
    }

    private Map<String, Long> truth() throws SQLException {
        return keyed(TRUTH);
    }

    private Map<String, Long> maintained() throws SQLException {
        return keyed(MAINTAINED);
    }

    private long rowsOfCounts() throws SQLException {
        return queryLong("SELECT count(*) FROM catalog_counts");
    }

    private Map<String, Long> keyed(String sql) throws SQLException {
        Map<String, Long> counts = new TreeMap<>();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                counts.put(rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getString(3) + "/" + rs.getString(4),
                        rs.getLong(5));
            }
        }
        return counts;
    }

    private long queryLong(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
