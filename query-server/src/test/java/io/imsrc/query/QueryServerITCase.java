package io.imsrc.query;

import static io.imsrc.testing.TestVectors.dot;
import static io.imsrc.testing.TestVectors.unit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.query.search.Hit;
import io.imsrc.query.store.VectorRow;
import io.imsrc.query.store.VectorStore;
import io.imsrc.query.testing.CifarImages;
import io.imsrc.query.testing.EmbeddedCatalog;
import io.imsrc.query.testing.TestServers;
import io.imsrc.query.testing.VectorRows;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestImages;
import io.imsrc.testing.Waiting;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query server over real things: embedded PostgreSQL holding 200 real CIFAR-10 images with
 * their vectors from the real model, the real model embedding queries, real FAISS, an embedded
 * Kafka broker for uploads. Results are checked against a brute-force cosine search in Java over
 * the vectors PostgreSQL holds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueryServerITCase {

    private static final Logger LOG = LoggerFactory.getLogger(QueryServerITCase.class);
    private static final String TOKEN = "test-token-123";
    private static final long MAX_UPLOAD = 2L << 20;
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir static Path temp;
    private EmbeddedCatalog library;
    private String topic;
    private QueryServer server;
    private ApiClient api;
    private ApiClient anonymous;

    @BeforeAll
    void start() throws Exception {
        library = EmbeddedCatalog.create("query", 20, temp);
        topic = SharedKafka.newTopic("uploads", 1);
        server = QueryServer.start(options(library.database(), temp.resolve("index-a.bin"), IndexType.FLATL2));
        api = new ApiClient(server.port(), TOKEN);
        api.awaitReady(DEADLINE);
        anonymous = new ApiClient(server.port(), null);
    }

    private QueryServerOptions options(TestDatabase database, Path indexPath, IndexType type) {
        return options(database, indexPath, type, SharedKafka.get().bootstrapServers(), Map.of());
    }

    private QueryServerOptions options(TestDatabase database, Path indexPath, IndexType type, String kafka,
            Map<String, String> settings) {
        Map<String, String> values = new HashMap<>(settings);
        values.put("FAISS_INDEX_TYPE", type.configValue());
        values.put("KAFKA_UPLOADS_TOPIC", topic);
        values.put("API_TOKEN", TOKEN);
        values.put("MAX_UPLOAD_SIZE", Long.toString(MAX_UPLOAD));
        values.put("REQUEST_SPOOL_DIR", temp.resolve("spool").toString());
        return TestServers.options(TestServers.services(database.jdbcUrl(), database.user(), library.model(), kafka),
                indexPath, values);
    }

    @AfterAll
    void stop() {
        Closeables.closeAll(server, library);
    }

    // ---- search ----

    @Test
    void a_search_over_every_category_matches_brute_force_exactly() throws Exception {
        Map<String, List<VectorRow>> rows = storedRows();
        for (CifarImages.Image query : List.of(library.images().get(3), library.images().get(77), library.images().get(150))) {
            JsonNode answer = ok(anonymous.get("/images/" + query.imageId() + "/similar?use_prototypes=false&limit=20"));
            List<Hit> expected = VectorRows.exactSearch(rows, rows.keySet(), query.vector(), 0, 21).stream()
                    .filter(h -> h.imageId() != query.imageId()).limit(20).toList();
            assertSameHits(answer.get("results"), expected, 1e-5);
            assertThat(answer.get("used_prototypes").asBoolean()).isFalse();
            assertThat(answer.get("searched_categories")).hasSize(10);
        }
    }

    @Test
    void a_prototype_search_matches_brute_force_within_the_best_categories() throws Exception {
        Map<String, List<VectorRow>> rows = storedRows();
        for (CifarImages.Image query : List.of(library.images().get(5), library.images().get(120), library.images().get(199))) {
            JsonNode answer = ok(anonymous.get("/images/" + query.imageId() + "/similar?top_categories=2&limit=15"));
            List<String> best = rankByPrototype(rows, query.vector()).subList(0, 2);
            assertThat(texts(answer.get("searched_categories"))).containsExactlyElementsOf(best);
            assertThat(texts(answer.get("category_ranking"), "category")).hasSize(10).startsWith(best.toArray(String[]::new));
            List<Hit> expected = VectorRows.exactSearch(rows, best, query.vector(), 0, 16).stream()
                    .filter(h -> h.imageId() != query.imageId()).limit(15).toList();
            assertSameHits(answer.get("results"), expected, 1e-5);
            assertThat(answer.get("results").findValuesAsText("category")).allMatch(best::contains);
        }
    }

    @Test
    void a_search_by_an_uploaded_image_finds_that_image_first_and_reports_its_stages() {
        CifarImages.Image query = library.images().get(42);
        JsonNode answer = ok(anonymous.postFile("/search?use_prototypes=false&limit=5", query.bytes()));
        JsonNode first = answer.get("results").get(0);
        assertThat(first.get("image_id").asLong()).isEqualTo(query.imageId());
        assertThat(first.get("similarity").asDouble()).isCloseTo(1.0, within(1e-4));
        assertThat(first.get("url").asText()).isEqualTo("/images/" + query.imageId() + "/content");
        assertThat(first.get("category").asText()).isEqualTo(query.category());
        assertThat(answer.get("query_image_id").asLong()).isEqualTo(query.imageId());
        assertThat(answer.get("predicted_category").asText()).isIn(CifarImages.CLASSES);
        assertThat(answer.get("prediction_confidence").asDouble()).isBetween(0.0, 1.0);
        assertThat(answer.get("model_id").asText()).isEqualTo(library.model().modelId().value());
        assertThat(answer.get("index_type").asText()).isEqualTo("flatl2");
        assertThat(answer.get("index_size").asLong()).isGreaterThanOrEqualTo(library.images().size());
        JsonNode timings = answer.get("timings");
        assertThat(timings.get("embed_ms").asDouble()).isPositive();
        assertThat(timings.get("total_ms").asDouble()).isGreaterThanOrEqualTo(timings.get("embed_ms").asDouble());
        for (JsonNode result : answer.get("results")) {
            assertThat(result.get("similarity").asDouble()).isBetween(-1.0, 1.0);
        }
    }

    @Test
    void a_search_with_an_uploaded_image_agrees_with_brute_force_over_the_models_own_embedding() throws Exception {
        CifarImages.Image query = CifarImages.load("test", 0, 1, library.embedder()).get(3);
        Map<String, List<VectorRow>> rows = storedRows();
        JsonNode answer = ok(anonymous.postFile("/search?use_prototypes=false&limit=10", query.bytes()));
        List<Hit> expected = VectorRows.exactSearch(rows, rows.keySet(), query.vector(), 0, 10);
        // The server embeds the query in a batch of its own: the same vector up to float rounding.
        assertSameHits(answer.get("results"), expected, 1e-4);
    }

    @Test
    void pages_follow_each_other_without_overlap_and_min_similarity_cuts_off() {
        CifarImages.Image query = library.images().get(10);
        String path = "/images/" + query.imageId() + "/similar?use_prototypes=false";
        JsonNode all = ok(anonymous.get(path + "&limit=30"));
        JsonNode page1 = ok(anonymous.get(path + "&limit=10"));
        JsonNode page2 = ok(anonymous.get(path + "&limit=10&offset=" + page1.get("next_offset").asInt()));
        JsonNode page3 = ok(anonymous.get(path + "&limit=10&offset=20"));
        List<Long> paged = new ArrayList<>();
        for (JsonNode page : List.of(page1, page2, page3)) {
            page.get("results").forEach(r -> paged.add(r.get("image_id").asLong()));
        }
        List<Long> whole = new ArrayList<>();
        all.get("results").forEach(r -> whole.add(r.get("image_id").asLong()));
        assertThat(paged).containsExactlyElementsOf(whole).doesNotHaveDuplicates();
        assertThat(page2.get("offset").asInt()).isEqualTo(10);

        double cut = all.get("results").get(5).get("similarity").asDouble();
        JsonNode above = ok(anonymous.get(path + "&limit=30&min_similarity=" + cut));
        assertThat(above.get("results").size()).isBetween(6, 29);
        above.get("results").forEach(r -> assertThat(r.get("similarity").asDouble()).isGreaterThanOrEqualTo(cut));
        assertThat(above.get("next_offset").isNull()).isTrue();
    }

    @Test
    void category_restricts_the_search_to_the_named_categories() {
        CifarImages.Image query = library.images().get(0);
        JsonNode answer = ok(anonymous.postFile("/search?use_prototypes=false&category=cat,dog&category=ship&limit=50",
                query.bytes()));
        assertThat(texts(answer.get("searched_categories"))).containsExactly("cat", "dog", "ship");
        assertThat(answer.get("results")).hasSize(50);
        assertThat(answer.get("results").findValuesAsText("category")).allMatch(Set.of("cat", "dog", "ship")::contains);
        JsonNode ranked = ok(anonymous.postFile("/search?category=frog&top_categories=3", query.bytes()));
        assertThat(texts(ranked.get("searched_categories"))).containsExactly("frog");
        assertThat(ok(anonymous.postFile("/search?category=unicorn", query.bytes())).get("results")).isEmpty();
    }

    @Test
    void the_prototype_stage_alone_ranks_every_category() throws Exception {
        CifarImages.Image query = library.images().get(61);
        JsonNode answer = ok(anonymous.postFile("/search/prototypes", query.bytes()));
        List<String> expected = rankByPrototype(storedRows(), query.vector());
        assertThat(texts(answer.get("categories"), "category")).containsExactlyElementsOf(expected);
        assertThat(answer.get("categories").get(0).get("image_count").asLong()).isEqualTo(20);
        double previous = 2;
        for (JsonNode c : answer.get("categories")) {
            assertThat(c.get("similarity").asDouble()).isBetween(-1.0, 1.0).isLessThanOrEqualTo(previous);
            previous = c.get("similarity").asDouble();
        }
        assertThat(texts(ok(anonymous.postFile("/search/prototypes?category=cat,truck", query.bytes()))
                .get("categories"), "category")).containsExactlyInAnyOrder("cat", "truck");
    }

    @Test
    void categories_list_counts_prototypes_and_the_image_nearest_each_prototype() throws Exception {
        Map<String, List<VectorRow>> rows = storedRows();
        JsonNode answer = ok(anonymous.get("/categories"));
        assertThat(texts(answer.get("categories"), "category")).containsAll(CifarImages.CLASSES);
        for (JsonNode c : answer.get("categories")) {
            String name = c.get("category").asText();
            List<VectorRow> own = rows.get(name);
            assertThat(c.get("vector_count").asLong()).isEqualTo(own.size());
            assertThat(c.get("indexed_count").asLong()).isEqualTo(own.size());
            assertThat(c.get("prototype").get("current").asBoolean()).isEqualTo(
                    c.get("prototype").get("image_count").asLong() == own.size());
            float[] mean = VectorRows.means(Map.of(name, own)).get(name);
            Hit nearest = VectorRows.exactSearch(Map.of(name, own), List.of(name), unit(mean), 0, 1).get(0);
            assertThat(c.get("representative").get("image_id").asLong()).isEqualTo(nearest.imageId());
        }
    }

    // ---- images ----

    @Test
    void an_image_shows_its_metadata_state_and_bytes_with_caching_headers() {
        CifarImages.Image image = library.images().get(17);
        JsonNode meta = ok(anonymous.get("/images/" + image.imageId()));
        assertThat(meta.get("state").asText()).isEqualTo("indexed");
        assertThat(meta.get("searchable").asBoolean()).isTrue();
        assertThat(meta.get("category").asText()).isEqualTo(image.category());
        assertThat(meta.get("format").asText()).isEqualTo("jpeg");
        assertThat(meta.get("content_url").asText()).isEqualTo("/images/" + image.imageId() + "/content");

        ApiClient.Response content = anonymous.get(meta.get("content_url").asText());
        assertThat(content.status()).isEqualTo(200);
        assertThat(content.body()).isEqualTo(image.bytes());
        assertThat(content.header("Content-Type")).isEqualTo("image/jpeg");
        assertThat(content.header("Cache-Control")).contains("immutable");
        String etag = content.header("ETag");
        ApiClient.Response again = anonymous.get(meta.get("content_url").asText(), "If-None-Match", etag);
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
    }

    @Test
    void an_image_without_a_vector_is_stored_but_not_searchable() throws Exception {
        CifarImages.Image image = CifarImages.load("test", 5, 1, library.embedder()).get(0);
        try (Connection c = library.database().connect()) {
            CifarImages.insert(c, List.of(image), library.model().modelId().value(), false);
        }
        JsonNode meta = ok(anonymous.get("/images/" + image.imageId()));
        assertThat(meta.get("state").asText()).isEqualTo("stored");
        assertThat(meta.get("searchable").asBoolean()).isFalse();
        assertError(anonymous.get("/images/" + image.imageId() + "/similar"), 422, "not_embedded");
    }

    @Test
    void a_rejected_upload_says_its_reason_code_and_the_jobs_explanation() throws Exception {
        long imageId = 4_242_424_242L;
        try (Connection c = library.database().connect(); java.sql.Statement s = c.createStatement()) {
            // The rows the job's dead-letter sink writes for an upload it refused.
            s.execute("INSERT INTO dead_letters (source, image_id, original_name, reason, detail, record_key) VALUES "
                    + "('upload', " + imageId + ", 'mystery.png', 'NO_CATEGORY', 'the image has no category', 'k1')");
            s.execute("INSERT INTO uploads (image_id, state, reason, original_name, content_type, received_at) VALUES "
                    + "(" + imageId + ", 'rejected', 'NO_CATEGORY', 'mystery.png', 'image/png', now())");
        }
        JsonNode meta = ok(anonymous.get("/images/" + imageId));
        assertThat(meta.get("state").asText()).isEqualTo("rejected");
        assertThat(meta.get("reason").asText()).isEqualTo("NO_CATEGORY");
        assertThat(meta.get("reason_detail").asText()).isEqualTo("the image has no category");
        assertThat(meta.get("searchable").asBoolean()).isFalse();
        assertThat(meta.get("original_name").asText()).isEqualTo("mystery.png");
    }

    // ---- uploads ----

    @Test
    void an_upload_is_checked_queued_and_published_for_the_ingest_job() throws Exception {
        byte[] png = TestImages.encode(TestImages.noise(40, 30, 7), "png");
        long id = ImageId.of(png);
        ApiClient.Response response = api.postMultipart("/upload",
                List.of(Part.file("file", "noise.png", png), Part.field("category", "noise")));
        assertThat(response.status()).as(response.toString()).isEqualTo(202);
        JsonNode body = response.json();
        assertThat(body.get("image_id").asLong()).isEqualTo(id);
        assertThat(body.get("status").asText()).isEqualTo("queued");
        assertThat(body.get("status_url").asText()).isEqualTo("/images/" + id);
        assertThat(body.get("uploads").get(0).get("format").asText()).isEqualTo("png");
        assertThat(body.get("uploads").get(0).get("width").asInt()).isEqualTo(40);

        JsonNode state = ok(anonymous.get("/images/" + id));
        assertThat(state.get("state").asText()).isEqualTo("queued");
        assertThat(state.get("searchable").asBoolean()).isFalse();
        assertThat(state.get("original_name").asText()).isEqualTo("noise.png");

        UploadRecord record = awaitPublished(id);
        assertThat(record.image()).isEqualTo(png);
        assertThat(record.category()).isEqualTo("noise");
        assertThat(record.originalName()).isEqualTo("noise.png");
    }

    @Test
    void several_files_are_uploaded_in_one_request_and_known_bytes_are_not_published_again() throws Exception {
        byte[] a = TestImages.encode(TestImages.noise(20, 20, 11), "png");
        byte[] b = TestImages.encode(TestImages.noise(21, 20, 12), "jpeg");
        byte[] known = library.images().get(0).bytes();
        JsonNode body = api.postMultipart("/upload", List.of(Part.file("file", "a.png", a), Part.file("file", "b.jpg", b),
                Part.file("file", "known.jpg", known))).json();
        assertThat(body.get("image_id").isNull()).isTrue();
        assertThat(body.get("uploads").findValuesAsText("status")).containsExactly("queued", "queued", "stored");
        assertThat(body.get("uploads").findValuesAsText("format")).containsExactly("png", "jpeg", "jpeg");
        awaitPublished(ImageId.of(a));
        awaitPublished(ImageId.of(b));
        assertThat(published()).noneMatch(r -> r.imageId() == ImageId.of(known));
    }

    @Test
    void a_large_upload_is_streamed_through_a_temporary_file_that_is_deleted_afterwards() throws Exception {
        byte[] big = TestImages.encode(TestImages.noise(700, 700, 3), "png");
        assertThat(big.length).isBetween(1 << 20, (int) MAX_UPLOAD);
        ApiClient.Response response = api.postMultipart("/upload", List.of(Part.file("file", "big.png", big)));
        assertThat(response.status()).as(response.toString()).isEqualTo(202);
        assertThat(awaitPublished(ImageId.of(big)).image()).isEqualTo(big);
        assertThat(TestServers.spooledFiles(temp.resolve("spool"))).isEmpty();
    }

    @Test
    void writes_need_the_token_and_searches_do_not() {
        byte[] png = Arrays.copyOf(library.images().get(1).bytes(), library.images().get(1).bytes().length);
        ApiClient.Response missing = anonymous.postMultipart("/upload", List.of(Part.file("file", "x.jpg", png)));
        assertError(missing, 401, "unauthorized");
        assertThat(missing.header("WWW-Authenticate")).startsWith("Bearer");
        assertError(api.withToken("wrong").postMultipart("/upload", List.of(Part.file("file", "x.jpg", png))), 401,
                "invalid_token");
        assertError(anonymous.post("/admin/reindex"), 401, "unauthorized");
        assertThat(anonymous.postFile("/search", png).status()).isEqualTo(200);
    }

    @Test
    void with_search_requires_token_reads_need_it_too_but_health_and_metrics_stay_open() throws Exception {
        try (QueryServer closed = QueryServer.start(options(library.database(), temp.resolve("index-closed.bin"), IndexType.FLATL2,
                SharedKafka.get().bootstrapServers(), Map.of("SEARCH_REQUIRES_TOKEN", "true")))) {
            ApiClient withToken = new ApiClient(closed.port(), TOKEN);
            ApiClient without = new ApiClient(closed.port(), null);
            without.awaitReady(DEADLINE);
            byte[] jpeg = library.images().get(4).bytes();
            assertError(without.postFile("/search", jpeg), 401, "unauthorized");
            assertError(without.get("/images/" + library.images().get(4).imageId()), 401, "unauthorized");
            assertError(without.get("/status"), 401, "unauthorized");
            assertThat(ok(withToken.postFile("/search", jpeg)).get("results")).isNotEmpty();
            ApiClient.Response viaHeader = without.get("/categories", "X-API-Token", TOKEN);
            assertThat(viaHeader.status()).as(viaHeader.toString()).isEqualTo(200);
            assertThat(without.get("/health").status()).isEqualTo(200);
            assertThat(without.get("/metrics").status()).isEqualTo(200);
            assertThat(without.get("/openapi").status()).isEqualTo(200);
        }
    }

    @Test
    void status_does_not_wait_on_a_broker_that_does_not_answer() throws Exception {
        // Nothing listens at port 1: each check of the broker takes its whole 3 s timeout, which
        // /status used to wait for on every call. The background probe takes it instead.
        try (QueryServer offline = QueryServer.start(options(library.database(),
                temp.resolve("index-no-broker.bin"), IndexType.FLATL2, "127.0.0.1:1", Map.of()))) {
            ApiClient client = new ApiClient(offline.port(), TOKEN);
            // Calls for 4 s, over more than one probe of the broker (a 3 s check, then 2 s apart).
            long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (System.nanoTime() < end) {
                long start = System.nanoTime();
                JsonNode status = ok(client.get("/status"));
                double seconds = (System.nanoTime() - start) / 1e9;
                assertThat(status.at("/services/kafka/reachable").asBoolean()).isFalse();
                assertThat(status.at("/services/kafka/detail").asText()).contains("no broker answered");
                assertThat(status.at("/services/postgres/reachable").asBoolean()).isTrue();
                // Generous: a local /status takes milliseconds; waiting on the broker took 3 s.
                assertThat(seconds).as("/status answered in %.2f s", seconds).isLessThan(1.5);
            }
        }
    }

    @Test
    void an_upload_kafka_does_not_take_answers_503_and_leaves_nothing_queued() throws Exception {
        try (QueryServer offline = QueryServer.start(TestServers.withLimits(options(library.database(),
                temp.resolve("index-offline.bin"), IndexType.FLATL2, "127.0.0.1:1", Map.of()),
                new QueryServerOptions.Limits(QueryServerOptions.Limits.DEFAULTS.maxFilesPerUpload(),
                        QueryServerOptions.Limits.DEFAULTS.decodeWait(), Duration.ofSeconds(3))))) {
            byte[] png = TestImages.encode(TestImages.noise(16, 16, 99), "png");
            ApiClient client = new ApiClient(offline.port(), TOKEN);
            assertError(client.postMultipart("/upload", List.of(Part.file("file", "p.png", png))), 503, "kafka_unavailable");
            assertError(client.get("/images/" + ImageId.of(png)), 404, "unknown_image");
            JsonNode status = ok(client.get("/status"));
            assertThat(status.get("services").get("kafka").get("reachable").asBoolean()).isFalse();
            assertThat(status.get("services").get("postgres").get("reachable").asBoolean()).isTrue();
        }
    }

    // ---- bad input ----

    @Test
    void bad_images_are_refused_with_a_json_error_and_the_server_goes_on() throws Exception {
        byte[] jpeg = library.images().get(2).bytes();
        byte[] text = "this is not an image, whatever its name says".getBytes();
        byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        byte[] oversize = new byte[(int) MAX_UPLOAD + 1];
        System.arraycopy(jpeg, 0, oversize, 0, jpeg.length);
        byte[] huge = pngHeader(100_000, 100_000);
        for (String path : List.of("/search", "/upload", "/search/prototypes")) {
            ApiClient client = path.equals("/upload") ? api : anonymous;
            assertError(client.postMultipart(path, List.of(Part.file("file", "empty.jpg", new byte[0]))), 400, "empty_file");
            assertError(client.postMultipart(path, List.of(Part.file("file", "cat.jpg", text))), 415, "not_an_image");
            assertError(client.postMultipart(path, List.of(Part.file("file", "half.jpg", truncated))), 422, "truncated_image");
            assertError(client.postMultipart(path, List.of(Part.file("file", "big.jpg", oversize))), 413, "file_too_large");
            assertError(client.postMultipart(path, List.of(Part.file("file", "huge.png", huge))), 413, "too_many_pixels");
            assertError(client.postMultipart(path, List.of(Part.file("image", "cat.jpg", jpeg))), 400, "missing_file");
            assertError(client.postBody(path, "application/json", "{}".getBytes()), 415, "not_multipart");
            assertError(client.postBody(path, "multipart/form-data; boundary=xyz", "garbage".getBytes()), 400,
                    "malformed_multipart");
        }
        assertError(anonymous.postMultipart("/search", List.of(Part.file("file", "a.jpg", jpeg),
                Part.file("file", "b.jpg", jpeg))), 400, "too_many_files");
        // None of it was queued.
        assertThat(ok(anonymous.get("/status")).get("counts").get("uploads").get("rejected").asLong()).isZero();
        assertThat(anonymous.postFile("/search", jpeg).status()).isEqualTo(200);
    }

    @Test
    void bad_parameters_and_unknown_ids_are_refused_with_a_json_error() {
        byte[] jpeg = library.images().get(2).bytes();
        assertError(anonymous.postFile("/search?limit=0", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?limit=51", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?top_categories=abc", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?top_categories=11", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?min_similarity=2", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?use_prototypes=maybe", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?offset=-1", jpeg), 400, "invalid_parameter");
        assertError(anonymous.postFile("/search?limit=5&limit=6", jpeg), 400, "invalid_parameter");
        assertThat(anonymous.postFile("/search?limit=0", jpeg).json().get("detail").asText()).contains("limit");
        assertError(anonymous.get("/images/123456789"), 404, "unknown_image");
        assertError(anonymous.get("/images/123456789/content"), 404, "unknown_image");
        assertError(anonymous.get("/images/123456789/similar"), 404, "unknown_image");
        assertError(anonymous.get("/images/abc"), 400, "invalid_image_id");
        assertError(anonymous.get("/images/-5"), 400, "invalid_image_id");
        assertError(anonymous.get("/no/such/route"), 404, "not_found");
        assertError(anonymous.get("/search"), 405, "method_not_allowed");
    }

    // ---- operations ----

    @Test
    void status_health_and_metrics_describe_the_server() throws Exception {
        anonymous.postFile("/search", library.images().get(9).bytes());
        JsonNode status = ok(anonymous.get("/status"));
        long vectors = storedRows().values().stream().mapToLong(List::size).sum();
        assertThat(status.get("counts").get("vectors").asLong()).isEqualTo(vectors);
        assertThat(status.get("counts").get("images").asLong()).isGreaterThanOrEqualTo(vectors);
        JsonNode index = status.get("index");
        assertThat(index.get("ready").asBoolean()).isTrue();
        assertThat(index.get("type").asText()).isEqualTo("flatl2");
        assertThat(index.get("categories").asInt()).isEqualTo(10);
        assertThat(index.get("last_refresh").asText()).isNotBlank();
        assertThat(index.get("newest_vector_seq").asLong()).isPositive();
        assertThat(status.get("model").get("model_id").asText()).isEqualTo(library.model().modelId().value());
        assertThat(status.get("model").get("dimension").asInt()).isEqualTo(library.embedder().dimension());
        assertThat(status.get("services").get("postgres").get("reachable").asBoolean()).isTrue();
        assertThat(status.get("services").get("kafka").get("reachable").asBoolean()).isTrue();

        JsonNode health = ok(anonymous.get("/health"));
        assertThat(health.get("ready").asBoolean()).isTrue();
        assertThat(ok(anonymous.get("/health/live")).get("live").asBoolean()).isTrue();
        assertThat(ok(anonymous.get("/health/ready")).get("status").asText()).isEqualTo("ok");

        ApiClient.Response metrics = anonymous.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.header("Content-Type")).startsWith("text/plain");
        assertThat(metrics.text())
                .contains("imsrc_http_requests_total{method=\"POST\",route=\"/search\",status=\"200\"}")
                .contains("imsrc_http_request_duration_seconds_bucket{method=\"POST\",route=\"/search\",le=\"0.1\"}")
                .contains("imsrc_index_ready 1")
                .contains("imsrc_index_lag_seconds")
                .containsPattern("imsrc_index_vectors \\d")
                // The JVM's and the process's standard metrics beside imsrc's own.
                .containsPattern("jvm_memory_used_bytes\\{area=\"heap\"\\} \\d")
                .contains("jvm_threads_current")
                .contains("jvm_gc_collection_seconds_count")
                .containsPattern("process_resident_memory_bytes \\d")
                .contains("process_cpu_seconds_total");
        anonymous.get("/images/424242/similar");
        assertThat(anonymous.get("/metrics").text())
                .contains("route=\"/images/{id}/similar\",status=\"404\"")
                .doesNotContain("424242");
    }

    @Test
    void the_openapi_document_lists_every_route_and_names_fields_as_the_server_sends_them() {
        JsonNode doc = ok(anonymous.get("/openapi"));
        assertThat(iterable(doc.get("paths").fieldNames())).containsExactlyInAnyOrder("/upload", "/images/{id}",
                "/images/{id}/content", "/images/{id}/similar", "/search", "/search/prototypes", "/categories",
                "/status", "/health", "/health/live", "/health/ready", "/metrics", "/admin/reindex");
        JsonNode schemas = doc.get("components").get("schemas");
        CifarImages.Image query = library.images().get(30);
        JsonNode search = ok(anonymous.postFile("/search", query.bytes()));
        assertThat(iterable(schemas.get("SearchResponse").get("properties").fieldNames()))
                .containsExactlyInAnyOrderElementsOf(iterable(search.fieldNames()));
        assertThat(iterable(schemas.get("SearchResult").get("properties").fieldNames()))
                .containsExactlyInAnyOrderElementsOf(iterable(search.get("results").get(0).fieldNames()));
        assertThat(iterable(schemas.get("SearchTimings").get("properties").fieldNames()))
                .containsExactlyInAnyOrderElementsOf(iterable(search.get("timings").fieldNames()));
        JsonNode image = ok(anonymous.get("/images/" + query.imageId()));
        assertThat(iterable(schemas.get("ImageResponse").get("properties").fieldNames()))
                .containsExactlyInAnyOrderElementsOf(iterable(image.fieldNames()));
        JsonNode status = ok(anonymous.get("/status"));
        assertThat(iterable(schemas.get("StatusResponse").get("properties").fieldNames()))
                .containsExactlyInAnyOrderElementsOf(iterable(status.fieldNames()));
        JsonNode error = anonymous.get("/images/1").json();
        assertThat(iterable(schemas.get("ErrorResponse").get("properties").fieldNames()))
                .containsExactlyInAnyOrderElementsOf(iterable(error.fieldNames()));
        assertThat(doc.get("paths").get("/search").get("post").get("responses").fieldNames())
                .toIterable().contains("200", "400", "413", "415", "422", "503");

        ApiClient.Response docs = anonymous.get("/docs");
        assertThat(docs.status()).isEqualTo(200);
        assertThat(docs.text()).contains("swagger").contains("/openapi");
    }

    @Test
    void the_openapi_document_lists_the_errors_and_the_token_of_every_operation() throws Exception {
        JsonNode doc = ok(anonymous.get("/openapi"));
        // For the standard linter that .ci/run applies (tools/openapi-lint): the document as served.
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/openapi.json"), doc.toPrettyString());

        assertThat(doc.get("servers")).isNotEmpty();
        assertThat(doc.at("/components/securitySchemes/BearerAuth/scheme").asText()).isEqualTo("bearer");
        Map<String, List<String>> secured = new java.util.TreeMap<>();
        doc.get("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
            String name = op.getKey().toUpperCase(java.util.Locale.ROOT) + " " + path.getKey();
            JsonNode responses = op.getValue().get("responses");
            for (String status : List.of("400", "503")) {
                assertThat(responses.has(status)).as(name + " lists " + status).isTrue();
            }
            responses.fields().forEachRemaining(r -> {
                if (r.getKey().matches("4\\d\\d") && !name.startsWith("GET /health")) {
                    assertThat(r.getValue().at("/content/application~1json/schema/$ref").asText())
                            .as(name + " " + r.getKey()).isEqualTo("#/components/schemas/ErrorResponse");
                }
            });
            if (!op.getValue().get("security").isEmpty()) {
                secured.put(name, List.of(responses.has("401") ? "401" : "", responses.has("403") ? "403" : ""));
            }
        }));
        // This server has API_TOKEN and not SEARCH_REQUIRES_TOKEN: only the writes need the token.
        assertThat(secured).containsOnlyKeys("POST /upload", "POST /admin/reindex")
                .allSatisfy((name, statuses) -> assertThat(statuses).containsExactly("401", "403"));
        assertThat(doc.at("/paths/~1search/post/responses").fieldNames()).toIterable().contains("408", "413");
    }

    @Test
    void a_committed_vector_becomes_searchable_within_a_second_or_so() throws Exception {
        CifarImages.Image fresh = CifarImages.load("test", 9, 1, library.embedder()).get(6);
        long committed;
        try (Connection c = library.database().connect()) {
            c.setAutoCommit(false);
            CifarImages.insert(c, List.of(fresh), library.model().modelId().value(), true);
            c.commit();
            committed = System.nanoTime();
        }
        Waiting.until(() -> anonymous.get("/images/" + fresh.imageId()).json().get("searchable").asBoolean(),
                "the upload to be searchable", DEADLINE);
        double seconds = (System.nanoTime() - committed) / 1e9;
        LOG.info("Freshness: a committed vector was searchable after {} s (including the HTTP polling)",
                String.format("%.3f", seconds));
        assertThat(seconds).as("seconds from the commit to searchable (a second or so; generous for a loaded machine)")
                .isLessThan(10);
        JsonNode answer = ok(anonymous.postFile("/search?use_prototypes=false&limit=1", fresh.bytes()));
        assertThat(answer.get("results").get(0).get("image_id").asLong()).isEqualTo(fresh.imageId());
        assertThat(ok(anonymous.get("/status")).get("index").get("lag_seconds").asDouble()).isZero();
    }

    @Test
    void a_reindex_rebuilds_beside_the_live_index_and_searches_go_on() throws Exception {
        CifarImages.Image query = library.images().get(88);
        String path = "/images/" + query.imageId() + "/similar?use_prototypes=false&limit=10";
        JsonNode before = ok(anonymous.get(path));
        ApiClient.Response started = api.post("/admin/reindex");
        assertThat(started.status()).as(started.toString()).isIn(200, 202);
        JsonNode done = ok(api.post("/admin/reindex?wait=true"));
        assertThat(done.get("status").asText()).isEqualTo("done");
        assertThat(done.get("vectors").asLong()).isEqualTo(storedRows().values().stream().mapToLong(List::size).sum());
        assertThat(ok(anonymous.get(path)).get("results")).isEqualTo(before.get("results"));
    }

    @Test
    void a_restarted_server_loads_the_saved_index_and_answers_identically() throws Exception {
        TestDatabase other = TestDatabase.create("restart", SchemaMigrations::migrate);
        List<CifarImages.Image> images = library.images().subList(0, 100);
        CifarImages.store(other, images, library.model().modelId().value());
        Path indexPath = temp.resolve("restart").resolve("index.bin");
        List<String> queries = new ArrayList<>();
        for (CifarImages.Image image : List.of(images.get(1), images.get(50), images.get(99))) {
            queries.add("/images/" + image.imageId() + "/similar?limit=10");
            queries.add("/images/" + image.imageId() + "/similar?limit=10&use_prototypes=false");
        }
        List<JsonNode> first = new ArrayList<>();
        String builtAt;
        try (QueryServer a = QueryServer.start(options(other, indexPath, IndexType.HNSW))) {
            ApiClient client = new ApiClient(a.port(), null);
            client.awaitReady(DEADLINE);
            queries.forEach(q -> first.add(ok(client.get(q)).get("results")));
            builtAt = ok(client.get("/status")).get("index").get("built_at").asText();
        }
        assertThat(indexPath.getParent()).isNotEmptyDirectory();
        try (QueryServer b = QueryServer.start(options(other, indexPath, IndexType.HNSW))) {
            ApiClient client = new ApiClient(b.port(), null);
            client.awaitReady(DEADLINE);
            JsonNode index = ok(client.get("/status")).get("index");
            assertThat(index.get("built_at").asText()).as("loaded, not rebuilt").isEqualTo(builtAt);
            assertThat(index.get("vectors").asLong()).isEqualTo(images.size());
            for (int i = 0; i < queries.size(); i++) {
                assertThat(ok(client.get(queries.get(i))).get("results")).isEqualTo(first.get(i));
            }
        }
    }

    @Test
    void two_replicas_on_one_database_answer_alike_and_both_take_in_a_new_vector() throws Exception {
        TestDatabase shared = TestDatabase.create("replicas", SchemaMigrations::migrate);
        CifarImages.store(shared, library.images().subList(0, 100), library.model().modelId().value());
        try (QueryServer a = QueryServer.start(options(shared, temp.resolve("replica-a/index.bin"), IndexType.FLATL2));
                QueryServer b = QueryServer.start(options(shared, temp.resolve("replica-b/index.bin"), IndexType.FLATL2))) {
            List<ApiClient> replicas = List.of(new ApiClient(a.port(), null), new ApiClient(b.port(), null));
            for (ApiClient replica : replicas) {
                replica.awaitReady(DEADLINE);
            }
            for (CifarImages.Image query : List.of(library.images().get(3), library.images().get(42))) {
                for (String options : List.of("limit=20", "limit=20&use_prototypes=false")) {
                    String path = "/images/" + query.imageId() + "/similar?" + options;
                    assertThat(ok(replicas.get(1).get(path)).get("results")).as(path)
                            .isEqualTo(ok(replicas.get(0).get(path)).get("results"));
                }
            }

            // One commit, heard by both (each LISTENs and keeps its own index).
            CifarImages.Image fresh = CifarImages.load("test", 5, 1, library.embedder()).get(2);
            long committed;
            try (Connection c = shared.connect()) {
                c.setAutoCommit(false);
                CifarImages.insert(c, List.of(fresh), library.model().modelId().value(), true);
                c.commit();
                committed = System.nanoTime();
            }
            for (ApiClient replica : replicas) {
                Waiting.until(() -> replica.searchable(fresh.imageId()), "the new vector on every replica", DEADLINE);
            }
            double seconds = (System.nanoTime() - committed) / 1e9;
            LOG.info("Replicas: a committed vector was searchable on both after {} s", String.format("%.3f", seconds));
            assertThat(seconds).as("seconds until both replicas search it (a second or so; generous for a loaded "
                    + "machine)").isLessThan(10);
            String path = "/search?use_prototypes=false&limit=5";
            JsonNode first = ok(replicas.get(0).postFile(path, fresh.bytes())).get("results");
            assertThat(first.get(0).get("image_id").asLong()).isEqualTo(fresh.imageId());
            // Each embeds the query itself: the same hits, the cosines equal to float precision.
            JsonNode second = ok(replicas.get(1).postFile(path, fresh.bytes())).get("results");
            assertThat(second).hasSameSizeAs(first);
            for (int i = 0; i < first.size(); i++) {
                assertThat(second.get(i).get("image_id")).isEqualTo(first.get(i).get("image_id"));
                assertThat(second.get(i).get("similarity").asDouble())
                        .isCloseTo(first.get(i).get("similarity").asDouble(), within(1e-5));
            }
        }
    }

    // ---- helpers ----

    private Map<String, List<VectorRow>> storedRows() throws Exception {
        Map<String, List<VectorRow>> rows = new LinkedHashMap<>();
        VectorStore store = new VectorStore(library.database().dataSource(), library.model().modelId().value());
        store.readForBuild(new VectorStore.BuildReader() {
            @Override
            public void sizes(Map<String, Long> vectorsPerCategory) {}

            @Override
            public void row(long imageId, String category, float[] vector, long seq, long createdAtMillis) {
                rows.computeIfAbsent(category, k -> new ArrayList<>())
                        .add(new VectorRow(imageId, category, vector, seq, createdAtMillis));
            }
        });
        return rows;
    }

    private static List<String> rankByPrototype(Map<String, List<VectorRow>> rows, float[] query) {
        Map<String, float[]> means = VectorRows.means(rows);
        Map<String, Double> scores = new LinkedHashMap<>();
        means.forEach((category, mean) -> scores.put(category, dot(query, unit(mean))));
        return scores.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).toList();
    }

    /**
     * The server's hits against the oracle's: the same similarities position by position, and the
     * same ids wherever the similarity does not tie with a neighbour's within the tolerance.
     */
    private static void assertSameHits(JsonNode results, List<Hit> expected, double tolerance) {
        assertThat(results).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            double similarity = results.get(i).get("similarity").asDouble();
            assertThat(similarity).as("similarity at %d", i).isCloseTo(expected.get(i).similarity(), within(tolerance));
            boolean tiesBefore = i > 0 && expected.get(i - 1).similarity() - expected.get(i).similarity() < tolerance;
            boolean tiesAfter = i + 1 < expected.size()
                    && expected.get(i).similarity() - expected.get(i + 1).similarity() < tolerance;
            if (!tiesBefore && !tiesAfter) {
                assertThat(results.get(i).get("image_id").asLong()).as("id at %d", i).isEqualTo(expected.get(i).imageId());
                assertThat(results.get(i).get("category").asText()).isEqualTo(expected.get(i).category());
            }
        }
        Set<Long> ids = new HashSet<>();
        results.forEach(r -> ids.add(r.get("image_id").asLong()));
        assertThat(ids).hasSize(expected.size());
    }

    private static JsonNode ok(ApiClient.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    private static void assertError(ApiClient.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.header("Content-Type")).as(response.toString()).startsWith("application/json");
        JsonNode body = response.json();
        assertThat(body.get("error").asText()).as(response.toString()).isEqualTo(code);
        assertThat(body.get("detail").asText()).isNotBlank();
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.get(field).asText()));
        return out;
    }

    private static List<String> iterable(Iterator<String> names) {
        List<String> out = new ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }

    /** A PNG of one IHDR chunk announcing the given size: the header alone must refuse it. */
    private static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes()).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        out.writeBytes(ByteBuffer.allocate(4).putInt(13).array());
        out.writeBytes(ihdr.array());
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        out.writeBytes(new byte[64]);
        return out.toByteArray();
    }

    private List<UploadRecord> published() throws Exception {
        List<UploadRecord> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.get().bootstrapServers(),
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 << 20), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (consumer.position(partition) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    records.add(UploadRecordCodec.decode(r.value()));
                }
            }
        }
        return records;
    }

    private UploadRecord awaitPublished(long imageId) throws Exception {
        return Waiting.forValue(() -> published().stream().filter(r -> r.imageId() == imageId).findFirst().orElse(null),
                "upload " + imageId + " published", DEADLINE);
    }
}
