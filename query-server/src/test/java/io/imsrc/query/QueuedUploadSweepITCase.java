package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.query.testing.TestServers;
import io.imsrc.query.upload.QueuedUploadSweeper;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestImages;
import io.imsrc.testing.Waiting;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads left queued are given up after their deadline, and only those: the rows are written as a
 * server that stopped between recording and publishing an upload leaves them, as a job that is down
 * leaves published ones, and as uploads under way look.
 */
class QueuedUploadSweepITCase {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir Path temp;

    private static void execute(TestDatabase catalog, String sql) throws SQLException {
        try (Connection c = catalog.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static Map<String, Object> row(TestDatabase catalog, String sql, long id) throws SQLException {
        try (Connection c = catalog.connect(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).as("a row for %d", id).isTrue();
                Map<String, Object> row = new HashMap<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
                }
                return row;
            }
        }
    }

    private static long count(TestDatabase catalog, String sql) throws SQLException {
        try (Connection c = catalog.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A queued row as {@code Catalog.recordQueued} writes it, aged as a test needs. */
    private static void queued(TestDatabase catalog, long id, String name, String updatedAgo, String publishedAgo)
            throws SQLException {
        execute(catalog, "INSERT INTO uploads (image_id, state, original_name, content_type, received_at, updated_at, "
                + "published_at) VALUES (" + id + ", 'queued', '" + name + "', 'image/png', now() - interval '" + updatedAgo
                + "', now() - interval '" + updatedAgo + "', "
                + (publishedAgo == null ? "NULL" : "now() - interval '" + publishedAgo + "'") + ")");
    }

    private static String state(ApiClient api, long id) {
        ApiClient.Response r = api.get("/images/" + id);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json().get("state").asText();
    }

    @Test
    void uploads_left_queued_are_given_up_after_their_deadline_and_ones_published_or_under_way_are_not()
            throws Exception {
        TestDatabase catalog = TestDatabase.create("sweep", SchemaMigrations::migrate);
        byte[] png = TestImages.encode(TestImages.noise(24, 24, 4242), "png");
        long lost = ImageId.of(png); // its server stopped before Kafka had it, an hour ago
        long waiting = 5002; // published an hour ago; the job is down
        long underWay = 5003; // recorded a moment ago; Kafka has not answered yet
        long expired = 5004; // published eight days ago and never stored
        queued(catalog, lost, "lost.png", "1 hour", null);
        queued(catalog, waiting, "waiting.png", "1 hour", "1 hour");
        queued(catalog, underWay, "now.png", "1 second", null);
        queued(catalog, expired, "old.png", "8 days", "8 days");
        execute(catalog, "INSERT INTO uploads (image_id, state, received_at, updated_at) VALUES "
                + "(5005, 'indexed', now() - interval '1 year', now() - interval '1 year')");
        execute(catalog, "INSERT INTO uploads (image_id, state, reason, received_at, updated_at) VALUES "
                + "(5006, 'rejected', 'NO_CATEGORY', now() - interval '1 year', now() - interval '1 year')");

        QueryServerOptions options = TestServers.options(
                TestServers.services(catalog.jdbcUrl(), catalog.user(), TestServers.referenceModel(temp.resolve("m")),
                        SharedKafka.get().bootstrapServers()),
                temp.resolve("index.bin"), Map.of("KAFKA_UPLOADS_TOPIC", SharedKafka.newTopic("sweep", 1)));
        assertThat(QueuedUploadSweeper.Deadlines.of(options.uploads())).isEqualTo(QueuedUploadSweeper.Deadlines.defaults());
        try (QueryServer server = QueryServer.start(options)) {
            ApiClient api = new ApiClient(server.port(), null);
            Waiting.until(() -> state(api, lost).equals("rejected") && state(api, expired).equals("rejected"),
                    "the sweep at start", DEADLINE);

            JsonNode gaveUp = api.get("/images/" + lost).json();
            assertThat(gaveUp.get("reason").asText()).isEqualTo("NOT_PUBLISHED");
            assertThat(gaveUp.get("reason_detail").asText()).contains("never reached Kafka").endsWith("upload it again");
            assertThat(gaveUp.get("original_name").asText()).isEqualTo("lost.png");
            JsonNode tooLate = api.get("/images/" + expired).json();
            assertThat(tooLate.get("reason").asText()).isEqualTo("NOT_INGESTED");
            assertThat(tooLate.get("reason_detail").asText()).contains("after 7 days").endsWith("upload it again");
            assertThat(state(api, waiting)).as("published; the job will store it").isEqualTo("queued");
            assertThat(state(api, underWay)).as("its publication is under way").isEqualTo("queued");
            assertThat(state(api, 5005)).isEqualTo("indexed");
            assertThat(row(catalog, "SELECT state, reason FROM uploads WHERE image_id = ?", 5006))
                    .isEqualTo(Map.of("state", "rejected", "reason", "NO_CATEGORY"));
            assertThat(count(catalog, "SELECT count(*) FROM dead_letters")).isEqualTo(2);

            // Uploaded again, the lost one is queued anew and marked published once Kafka has it.
            ApiClient.Response again = api.postMultipart("/upload", List.of(Part.file("file", "lost.png", png)));
            assertThat(again.status()).as(again.toString()).isEqualTo(202);
            Map<String, Object> requeued = row(catalog,
                    "SELECT state, reason, published_at IS NOT NULL AS published FROM uploads WHERE image_id = ?", lost);
            assertThat(requeued.get("state")).isEqualTo("queued");
            assertThat(requeued.get("reason")).isNull();
            assertThat(requeued.get("published")).as("published_at once Kafka acknowledged").isEqualTo(true);
        }
    }

    @Test
    void sweeps_that_run_at_once_mark_each_stale_upload_exactly_once() throws Exception {
        TestDatabase catalog = TestDatabase.create("sweeps", SchemaMigrations::migrate);
        int uploads = 200;
        execute(catalog, "INSERT INTO uploads (image_id, state, received_at, updated_at) "
                + "SELECT g, 'queued', now() - interval '1 hour', now() - interval '1 hour' FROM generate_series(1, "
                + uploads + ") g");
        List<QueuedUploadSweeper> replicas = List.of(
                new QueuedUploadSweeper(catalog.dataSource(), QueuedUploadSweeper.Deadlines.defaults()),
                new QueuedUploadSweeper(catalog.dataSource(), QueuedUploadSweeper.Deadlines.defaults()),
                new QueuedUploadSweeper(catalog.dataSource(), QueuedUploadSweeper.Deadlines.defaults()));
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size());
        try {
            List<Future<Integer>> marked = new ArrayList<>();
            for (QueuedUploadSweeper replica : replicas) {
                Callable<Integer> sweep = replica::sweep;
                marked.add(pool.submit(sweep));
            }
            int total = 0;
            for (Future<Integer> m : marked) {
                total += m.get();
            }
            assertThat(total).isEqualTo(uploads);
        } finally {
            pool.shutdownNow();
        }
        assertThat(count(catalog, "SELECT count(*) FROM uploads WHERE state = 'rejected' AND reason = 'NOT_PUBLISHED'"))
                .isEqualTo(uploads);
        assertThat(count(catalog, "SELECT count(*) FROM dead_letters WHERE reason = 'NOT_PUBLISHED'")).isEqualTo(uploads);
        assertThat(replicas.get(0).sweep()).as("a later sweep finds nothing").isZero();
    }
}
