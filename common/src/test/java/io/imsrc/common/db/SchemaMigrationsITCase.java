package io.imsrc.common.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.testing.Waiting;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

class SchemaMigrationsITCase {

    private EmbeddedPostgresServer.Database db;

    @BeforeEach
    void freshDatabase() {
        db = SharedPostgres.createDatabase("schema");
    }

    private static List<Integer> versions() {
        return SchemaMigrations.ALL.stream().map(SchemaMigrations.Migration::version).toList();
    }

    @Test
    void a_fresh_database_gets_every_table_and_the_ten_cifar_categories() throws Exception {
        assertThat(SchemaMigrations.migrate(db.dataSource())).containsExactlyElementsOf(versions());

        List<String> tables = queryStrings(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
        assertThat(tables).contains("categories", "images", "vectors", "_category_prototypes", "faiss",
                "uploads", "dead_letters", "ingested_sources", SchemaMigrations.HISTORY_TABLE);
        assertThat(queryStrings("SELECT category_name FROM categories ORDER BY category_id"))
                .containsExactly("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
    }

    @Test
    void migrating_twice_applies_nothing_the_second_time() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        assertThat(SchemaMigrations.migrate(db.dataSource())).isEmpty();
        assertThat(queryStrings("SELECT count(*)::text FROM categories")).containsExactly("10");
    }

    @Test
    void concurrent_starters_apply_each_migration_exactly_once() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Integer>>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Callable<List<Integer>> task = () -> SchemaMigrations.migrate(db.dataSource());
                results.add(pool.submit(task));
            }
            List<Integer> applied = new ArrayList<>();
            for (var f : results) {
                applied.addAll(f.get());
            }
            assertThat(applied).containsExactlyElementsOf(versions());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void a_migration_waits_for_another_past_the_connections_statement_timeout_and_restores_it() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection holder = db.dataSource().getConnection(); Statement hold = holder.createStatement();
                Connection waiting = db.dataSource().getConnection(); Statement w = waiting.createStatement()) {
            hold.execute("SELECT pg_advisory_lock(" + SchemaMigrations.LOCK_KEY + ")"); // another replica migrating
            w.execute("SET application_name = 'waiting-migration'");
            w.execute("SET statement_timeout = '300ms'"); // as a pool with request timeouts sets it
            waiting.setNetworkTimeout(Runnable::run, 2_000);
            Future<List<Integer>> migration = pool.submit(() -> SchemaMigrations.migrate(waiting));
            // Blocked on the lock for longer than both timeouts allow a statement.
            Waiting.until(() -> {
                assertThat(migration.isDone()).as("the migration gave up waiting").isFalse();
                return !queryStrings("SELECT count(*)::text FROM pg_stat_activity WHERE application_name = "
                        + "'waiting-migration' AND wait_event_type = 'Lock' AND now() - query_start > interval '3 seconds'")
                        .equals(List.of("0"));
            }, "the migration to wait on the lock", Duration.ofSeconds(90));
            hold.execute("SELECT pg_advisory_unlock(" + SchemaMigrations.LOCK_KEY + ")");

            assertThat(migration.get(90, TimeUnit.SECONDS)).containsExactlyElementsOf(versions());
            try (ResultSet rs = w.executeQuery("SHOW statement_timeout")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("300ms");
            }
            assertThat(waiting.getNetworkTimeout()).isEqualTo(2_000);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void writing_vectors_or_prototypes_notifies_the_listeners_once_per_statement_at_commit() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        try (Connection listener = db.dataSource().getConnection(); Connection writer = db.dataSource().getConnection();
                Statement listen = listener.createStatement(); Statement write = writer.createStatement()) {
            listen.execute("LISTEN imsrc_vectors");
            listen.execute("LISTEN imsrc_prototypes");
            writer.setAutoCommit(false);
            write.execute("INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash,"
                    + " source, category_assignment) SELECT g, 1, '\\x00', 'png', 1, 1, sha256(int8send(g)), 'folder',"
                    + " 'label' FROM generate_series(1, 3) g");
            write.execute("INSERT INTO vectors (image_id, model_id, embedding) SELECT g, 'm', '{1,0}' FROM generate_series(1, 3) g");
            PGConnection pg = listener.unwrap(PGConnection.class);
            assertThat(pg.getNotifications(200)).as("nothing before the commit").isNullOrEmpty();
            writer.commit();
            PGNotification[] vectors = pg.getNotifications(10_000);
            assertThat(vectors).extracting(PGNotification::getName).containsExactly("imsrc_vectors");

            write.execute("INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count)"
                    + " VALUES (1, 'm', '{1,0}', 3)");
            writer.commit();
            assertThat(pg.getNotifications(10_000)).extracting(PGNotification::getName).containsExactly("imsrc_prototypes");
        }
    }

    @Test
    void a_changed_released_script_is_refused() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        execute("UPDATE " + SchemaMigrations.HISTORY_TABLE + " SET checksum = 'edited' WHERE version = 1");
        assertThatThrownBy(() -> SchemaMigrations.migrate(db.dataSource()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("V1")
                .hasMessageContaining("must never change");
    }

    @Test
    void a_database_migrated_with_a_scripts_former_comments_is_accepted() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        // What a database migrated before V1's comments were mended holds.
        execute("UPDATE " + SchemaMigrations.HISTORY_TABLE + " SET checksum = "
                + "'52905a3effa325b3d64829db69a8dfdc11c905d15c5670ff0e5f6445335f748c' WHERE version = 1");

        assertThat(SchemaMigrations.migrate(db.dataSource())).isEmpty();
    }

    @Test
    void a_schema_newer_than_this_build_is_refused() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        execute("INSERT INTO " + SchemaMigrations.HISTORY_TABLE + " (version, description, checksum) "
                + "VALUES (99, 'from the future', 'x')");
        assertThatThrownBy(() -> SchemaMigrations.migrate(db.dataSource()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("version 99");
    }

    @Test
    void users_plain_sql_finds_images_by_category_name_and_images_without_vectors() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        insertImageWithVector(11, "cat", (byte) 1, true);
        insertImageWithVector(12, "cat", (byte) 2, false);
        insertImageWithVector(13, "dog", (byte) 3, true);

        assertThat(queryStrings("SELECT i.image_id::text FROM images i JOIN categories c ON c.category_id = i.category_id "
                + "WHERE c.category_name = 'cat' ORDER BY i.image_id")).containsExactly("11", "12");
        assertThat(queryStrings("SELECT i.image_id::text FROM images i LEFT JOIN vectors v ON v.image_id = i.image_id "
                + "WHERE v.image_id IS NULL")).containsExactly("12");
    }

    @Test
    void the_same_content_hash_cannot_be_stored_under_two_ids() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        insertImageWithVector(21, "cat", (byte) 7, false);
        assertThatThrownBy(() -> insertImageWithVector(22, "cat", (byte) 7, false))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("content_hash");
    }

    @Test
    void an_image_and_its_vector_are_written_in_one_idempotent_statement() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        // The pattern the job's sink uses (docs/design.md, "Exactly once"): one statement, so the foreign
        // key holds whatever order two sinks would commit in, and a replay changes nothing.
        String sql = "WITH i AS (INSERT INTO images (image_id, category_id, image_data, format, width, height, "
                + "content_hash, source, category_assignment) SELECT ?, category_id, '\\x00'::bytea, 'png', 32, 32, ?, "
                + "'cifar10', 'label' FROM categories WHERE category_name = ? ON CONFLICT DO NOTHING) "
                + "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, 'm', ?) ON CONFLICT DO NOTHING";
        for (int attempt = 0; attempt < 2; attempt++) {
            try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, 31);
                ps.setBytes(2, hash((byte) 9));
                ps.setString(3, "ship");
                ps.setLong(4, 31);
                ps.setArray(5, c.createArrayOf("real", new Float[] {0.6f, 0.8f}));
                ps.executeUpdate();
            }
        }
        assertThat(queryStrings("SELECT count(*)::text FROM images")).containsExactly("1");
        assertThat(queryStrings("SELECT embedding::text FROM vectors WHERE image_id = 31")).containsExactly("{0.6,0.8}");
    }

    @Test
    void rows_that_break_the_data_model_are_refused() throws Exception {
        SchemaMigrations.migrate(db.dataSource());
        assertThatThrownBy(() -> insertImageWithVector(-5, "cat", (byte) 4, false)).hasMessageContaining("image_id");
        assertThatThrownBy(() -> execute("INSERT INTO uploads (image_id, state, received_at) VALUES (1, 'rejected', now())"))
                .as("a rejected upload needs its reason")
                .isInstanceOf(SQLException.class);
        execute("INSERT INTO dead_letters (source, reason, record_key) VALUES ('folder', 'TRUNCATED', 'a/b.jpg')");
        execute("INSERT INTO dead_letters (source, reason, record_key) VALUES ('folder', 'TRUNCATED', 'a/b.jpg') "
                + "ON CONFLICT DO NOTHING");
        assertThat(queryStrings("SELECT count(*)::text FROM dead_letters")).containsExactly("1");
    }

    private void insertImageWithVector(long id, String category, byte hashSeed, boolean withVector) throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source, "
                            + "original_name, category_assignment) SELECT ?, category_id, ?, 'jpeg', 32, 32, ?, 'folder', ?, 'label' "
                            + "FROM categories WHERE category_name = ?")) {
                ps.setLong(1, id);
                ps.setBytes(2, new byte[] {hashSeed});
                ps.setBytes(3, hash(hashSeed));
                ps.setString(4, category + "/" + id + ".jpg");
                ps.setString(5, category);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            if (withVector) {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, 'test-model', ?)")) {
                    ps.setLong(1, id);
                    ps.setArray(2, c.createArrayOf("real", new Float[] {1f, 0f}));
                    ps.executeUpdate();
                }
            }
        }
    }

    private static byte[] hash(byte seed) {
        byte[] h = new byte[32];
        java.util.Arrays.fill(h, seed);
        return h;
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private List<String> queryStrings(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
