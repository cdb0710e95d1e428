package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig.DatabaseTimeouts;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.query.store.Database;
import io.imsrc.query.testing.CifarImages;
import io.imsrc.query.testing.StallingProxy;
import io.imsrc.query.testing.TestServers;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query server while its PostgreSQL fails, all of it real: a PostgreSQL of the test's own that
 * is stopped and started again on the same port and data, or that stops answering (a TCP proxy in
 * front of it stops passing bytes on, as a frozen host or a silent network does), or that refuses
 * the LISTEN connection a new login; the real model and FAISS. Searches go on from the index in
 * memory, requests that need the database answer 503 JSON instead of hanging, /health/ready says
 * what fails and comes back to 200 by itself once PostgreSQL does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresFaultsITCase {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresFaultsITCase.class);
    private static final Duration DEADLINE = Duration.ofSeconds(120);
    // Short enough for a quick test, long enough for a loaded machine's ordinary queries.
    private static final DatabaseTimeouts TIMEOUTS =
            new DatabaseTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(6), Duration.ofSeconds(5));

    @TempDir static Path temp;
    private EmbeddedPostgresServer postgres;
    private StallingProxy proxy;
    private Embedder embedder;
    private ConfiguredModel model;
    private TestDatabase catalog;
    private List<CifarImages.Image> stored;
    private QueryServer server;
    private ApiClient api;

    @BeforeAll
    void start() throws Exception {
        postgres = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults());
        catalog = TestDatabase.on(postgres.defaultDatabase(), SchemaMigrations::migrate);
        model = TestServers.referenceModel(temp.resolve("models"));
        embedder = Embedder.load(model.description(), EmbedderOptions.builder().device(Device.CPU).build());
        stored = CifarImages.load("train", 0, 3, embedder);
        CifarImages.store(catalog, stored, model.modelId().value());
        proxy = new StallingProxy(postgres.host(), postgres.port());
        server = QueryServer.start(TestServers.options(TestServers.services(
                "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + postgres.database(), postgres.user(), model),
                temp.resolve("index.bin"), Map.of(
                        "DB_CONNECT_TIMEOUT_MS", Long.toString(TIMEOUTS.connect().toMillis()),
                        "DB_SOCKET_TIMEOUT_MS", Long.toString(TIMEOUTS.socket().toMillis()),
                        "DB_STATEMENT_TIMEOUT_MS", Long.toString(TIMEOUTS.statement().toMillis()))));
        api = new ApiClient(server.port(), null);
        api.awaitReady(DEADLINE);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {server, proxy, embedder, postgres}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @BeforeEach
    void everythingWorks() throws Exception {
        await(() -> api.get("/health/ready").status() == 200, "the server to be ready");
    }

    @Test
    void while_postgresql_is_stopped_searches_answer_from_memory_and_ready_says_why_until_it_is_back() throws Exception {
        CifarImages.Image query = stored.get(7);
        long vectorsBefore = api.indexVectors();

        postgres.stop();
        long stoppedAt = System.nanoTime();
        JsonNode down;
        try {
            // The LISTEN connection is cut first; the refresh fails at its next turn.
            await(() -> !readyCheck("index_refresh").equals("ok"), "the index refresh to fail");
            down = api.get("/health/ready").json();
            LOG.info("PostgreSQL stopped: /health/ready said so after {} s: {}", String.format("%.2f", seconds(stoppedAt)),
                    down);
            assertThat(api.get("/health/ready").status()).isEqualTo(503);
            assertThat(down.get("status").asText()).isEqualTo("failing");
            assertThat(down.get("ready").asBoolean()).isFalse();
            assertThat(down.get("detail").asText()).contains("index_refresh: index refresh failing");
            assertThat(down.get("checks").get("index").asText()).isEqualTo("ok");
            assertThat(down.get("checks").get("index_refresh").asText())
                    .contains("searches are answered from the index as it is");
            assertThat(down.get("checks").get("query_embedder").asText()).isEqualTo("ok");

            // Searches need no database: the index in memory answers them.
            ApiClient.Response search = api.postFile("/search?use_prototypes=false&limit=1", query.bytes());
            assertThat(search.status()).as(search.toString()).isEqualTo(200);
            assertThat(search.json().get("results").get(0).get("image_id").asLong()).isEqualTo(query.imageId());
            assertThat(api.postFile("/search/prototypes", query.bytes()).status()).isEqualTo(200);

            // What needs the database answers 503 JSON at once.
            assertDatabaseUnavailable(api.get("/images/" + query.imageId()));
            JsonNode status = ok(api.get("/status"));
            assertThat(status.get("services").get("postgres").get("reachable").asBoolean()).isFalse();
            assertThat(status.get("index").get("ready").asBoolean()).isTrue();
            assertThat(status.get("index").get("last_error").asText()).isNotBlank();
        } finally {
            postgres.restart();
        }
        long restartedAt = System.nanoTime();

        // Written after the restart: the index catches up by itself.
        List<CifarImages.Image> fresh = CifarImages.load("train", 3, 1, embedder);
        try (Connection c = catalog.connect()) {
            c.setAutoCommit(false);
            CifarImages.insert(c, fresh, model.modelId().value(), true);
            c.commit();
        }
        await(() -> api.get("/health/ready").status() == 200, "ready again");
        double readyAfter = seconds(restartedAt);
        await(() -> api.indexVectors() == vectorsBefore + fresh.size(), "the index to catch up");
        LOG.info("PostgreSQL back: ready again after {} s, the {} vectors written since searchable after {} s",
                String.format("%.2f", readyAfter), fresh.size(), String.format("%.2f", seconds(restartedAt)));
        JsonNode up = ok(api.get("/health/ready"));
        assertThat(up.get("status").asText()).isEqualTo("ok");
        assertThat(up.get("checks").get("index_refresh").asText()).isEqualTo("ok");
        assertThat(up.get("checks").get("index_listener").asText()).isEqualTo("ok");
        CifarImages.Image newest = fresh.get(4);
        JsonNode found = ok(api.postFile("/search?use_prototypes=false&limit=1", newest.bytes()));
        assertThat(found.get("results").get(0).get("image_id").asLong()).isEqualTo(newest.imageId());
        assertThat(ok(api.get("/images/" + query.imageId())).get("image_id").asLong()).isEqualTo(query.imageId());
    }

    @Test
    void a_postgresql_that_stops_answering_gets_requests_a_503_instead_of_holding_them() throws Exception {
        CifarImages.Image query = stored.get(12);
        proxy.stall();
        try {
            long asked = System.nanoTime();
            ApiClient.Response image = api.get("/images/" + query.imageId());
            LOG.info("A request for a stalled PostgreSQL answered {} after {} s (timeouts: {})", image.status(),
                    String.format("%.2f", seconds(asked)), TIMEOUTS);
            assertDatabaseUnavailable(image);

            await(() -> !readyCheck("index_refresh").equals("ok"), "the index refresh to fail");
            ApiClient.Response ready = api.get("/health/ready");
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.json().get("checks").get("index_refresh").asText()).contains("index refresh failing");
            ApiClient.Response search = api.postFile("/search?use_prototypes=false&limit=1", query.bytes());
            assertThat(search.status()).as(search.toString()).isEqualTo(200);
            assertThat(search.json().get("results").get(0).get("image_id").asLong()).isEqualTo(query.imageId());
            assertDatabaseUnavailable(api.get("/images/" + query.imageId() + "/similar"));
        } finally {
            proxy.resume();
        }
        await(() -> api.get("/health/ready").status() == 200, "ready again");
        assertThat(ok(api.get("/images/" + query.imageId())).get("category").asText()).isEqualTo(query.category());
    }

    @Test
    void a_listen_connection_that_cannot_log_in_again_makes_ready_503_while_the_index_polls() throws Exception {
        String database = postgres.database();
        CifarImages.Image extra = CifarImages.load("train", 4, 1, embedder).get(2);
        try (Connection admin = DriverManager.getConnection(
                        "jdbc:postgresql://" + postgres.host() + ":" + postgres.port() + "/postgres", postgres.user(), "");
                Connection writer = catalog.connect();
                Statement s = admin.createStatement()) {
            try {
                // New logins to the database are refused (superusers too), existing connections stay.
                s.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
                        + Database.LISTEN_APPLICATION_NAME + "'");

                // Cut first, then refused at the next LISTEN: the check says the latest reason.
                await(() -> readyCheck("index_listener").contains("not currently accepting connections"),
                        "the LISTEN connection to be refused");
                ApiClient.Response ready = api.get("/health/ready");
                assertThat(ready.status()).isEqualTo(503);
                JsonNode down = ready.json();
                LOG.info("LISTEN refused: {}", down);
                assertThat(down.get("checks").get("index_listener").asText())
                        .contains("index listener failing", "the index polls PostgreSQL every 200 ms meanwhile");
                assertThat(down.get("checks").get("index_refresh").asText()).isEqualTo("ok");

                // Polling, over the pool's connections, still brings new vectors in.
                writer.setAutoCommit(false);
                CifarImages.insert(writer, List.of(extra), model.modelId().value(), true);
                writer.commit();
                await(() -> api.searchable(extra.imageId()), "the new vector to be searchable by polling");
            } finally {
                s.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
            }
        }
        await(() -> api.get("/health/ready").status() == 200, "ready again");
        assertThat(ok(api.get("/health/ready")).get("checks").get("index_listener").asText()).isEqualTo("ok");
    }

    /** One part's entry in /health/ready's checks. */
    private String readyCheck(String name) {
        return api.get("/health/ready").json().get("checks").get(name).asText();
    }

    private static void assertDatabaseUnavailable(ApiClient.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(503);
        assertThat(response.header("Content-Type")).startsWith("application/json");
        assertThat(response.header("Retry-After")).isNotBlank();
        assertThat(response.json().get("error").asText()).isEqualTo("database_unavailable");
        assertThat(response.json().get("detail").asText()).startsWith("PostgreSQL cannot answer now");
    }

    private static JsonNode ok(ApiClient.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    private static void await(Waiting.Condition condition, String what) throws Exception {
        Waiting.until(condition, what, DEADLINE);
    }
}
