package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.common.io.Closeables;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.query.testing.CifarImages;
import io.imsrc.query.testing.EmbeddedCatalog;
import io.imsrc.query.testing.RawHttp.Answer;
import io.imsrc.query.testing.RawHttp;
import io.imsrc.query.testing.TestServers;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.ImageBombs;
import io.imsrc.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hostile requests against the whole query server over real things (embedded PostgreSQL with real
 * CIFAR-10 images and vectors, the real model, real FAISS, an embedded Kafka broker): malformed,
 * truncated and bomb images of every format, polyglots, broken multipart bodies, missing and
 * repeated fields, bad parameters, ids out of range, path traversal, oversized URIs and headers,
 * broken Content-Lengths, wrong methods and content types, writes from other sites' pages, slow
 * bodies, parallel bad uploads and a full decode budget.
 *
 * <p>Every answer must be a 4xx (or 503) with the API's JSON error, and afterwards nothing may be
 * stored, queued, published or counted: the row counts in PostgreSQL, the topic's end offset and
 * the upload and search counters are what they were, no temporary file is left, no decode budget is
 * held, and a good search still answers. The requests go over raw sockets, so that what an HTTP
 * client would refuse to send reaches the server as written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileRequestsITCase {

    private static final Logger LOG = LoggerFactory.getLogger(HostileRequestsITCase.class);
    private static final String TOKEN = "hostile-test-token";
    private static final int MAX_UPLOAD = 1 << 20;
    private static final int MAX_FILES = 3;
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(3);
    private static final String BOUNDARY = "hostile-boundary";

    @TempDir static Path temp;
    private EmbeddedCatalog library;
    private String topic;
    private QueryServer server;
    private RawHttp http;

    @BeforeAll
    void start() throws Exception {
        library = EmbeddedCatalog.create("hostile", 5, temp);
        topic = SharedKafka.newTopic("hostile-uploads", 1);
        server = QueryServer.start(options(temp.resolve("index.bin")));
        new ApiClient(server.port(), null).awaitReady(DEADLINE);
        http = new RawHttp(server.port());
    }

    private QueryServerOptions options(Path indexPath) {
        return options(indexPath, Map.of());
    }

    private QueryServerOptions options(Path indexPath, Map<String, String> settings) {
        Map<String, String> values = new HashMap<>(settings);
        values.put("API_TOKEN", TOKEN);
        values.put("MAX_UPLOAD_SIZE", Integer.toString(MAX_UPLOAD));
        values.put("REQUEST_BODY_TIMEOUT_MS", Long.toString(BODY_TIMEOUT.toMillis()));
        values.put("REQUEST_SPOOL_DIR", temp.resolve("spool").toString());
        return TestServers.withLimits(library.serverOptions(indexPath, topic, values), new QueryServerOptions.Limits(
                MAX_FILES, Duration.ofMillis(500), QueryServerOptions.Limits.DEFAULTS.requestTimeout()));
    }

    @AfterAll
    void stop() {
        Closeables.closeAll(server, library);
    }

    /** One hostile request: what it is, the bytes sent, and the status it must get. */
    record Hostile(String name, Request request, int status, String error) {}

    @Test
    void every_hostile_request_gets_a_json_error_and_changes_nothing() throws Exception {
        byte[] jpeg = library.images().get(2).bytes();
        byte[] png = TestImages.encode(TestImages.noise(40, 30, 1), "png");
        byte[] gif = TestImages.encode(TestImages.noise(40, 30, 2), "gif");
        byte[] bmp = TestImages.encode(TestImages.noise(40, 30, 3), "bmp");
        byte[] smallJpeg = TestImages.encode(TestImages.noise(8, 8, 4), "jpeg");
        byte[] corruptPng = png.clone();
        Arrays.fill(corruptPng, 45, 90, (byte) 0xA5);
        byte[] oversize = Arrays.copyOf(jpeg, MAX_UPLOAD + 1);
        byte[] text = "a cat sat on the mat, not a picture of one".getBytes(StandardCharsets.UTF_8);
        byte[] htmlJpeg = concat(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0},
                "<html><script>alert(document.cookie)</script></html>".getBytes(StandardCharsets.US_ASCII));
        byte[] gifScript = "GIF89a/*\u0001\u0001\u0080\u0000\u0000*/=alert(1)//;".getBytes(StandardCharsets.ISO_8859_1);
        byte[] pdf = "%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n".getBytes(StandardCharsets.US_ASCII);
        byte[] tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
        byte[] manyScans = ImageBombs.jpegWithScans(TestImages.progressiveJpeg(TestImages.noise(64, 64, 5)), 65);
        String longUri = "/images/1?x=" + "a".repeat(9000);
        String bigHeader = "X-Padding: " + "b".repeat(9000) + "\r\n";

        List<Hostile> cases = List.of(
            // ---- POST /upload: files that are not images, or not whole ----
            new Hostile("empty file", upload(file("empty.jpg", new byte[0])), 400, "empty_file"),
            new Hostile("text named .jpg", upload(file("cat.jpg", text)), 415, "not_an_image"),
            new Hostile("PDF", upload(file("doc.jpg", pdf)), 415, "not_an_image"),
            new Hostile("TIFF", upload(file("scan.tif", tiff)), 415, "unsupported_format"),
            new Hostile("WebP", upload(file("photo.webp", webp)), 415, "unsupported_format"),
            new Hostile("JPEG cut in half", upload(file("half.jpg", half(jpeg))), 422, "truncated_image"),
            new Hostile("PNG cut in half", upload(file("half.png", half(png))), 422, "truncated_image"),
            new Hostile("GIF cut in half", upload(file("half.gif", half(gif))), 422, "truncated_image"),
            new Hostile("BMP cut in half", upload(file("half.bmp", half(bmp))), 422, "truncated_image"),
            new Hostile("PNG with garbage image data", upload(file("bad.png", corruptPng)), 422, null),
            new Hostile("JPEG magic then HTML (polyglot)", upload(file("x.jpg", htmlJpeg)), 422, null),
            new Hostile("GIF magic then script (polyglot)", upload(file("x.gif", gifScript)), 422, null),
            new Hostile("file over MAX_UPLOAD_SIZE", upload(file("big.jpg", oversize)), 413, "file_too_large"),
            // ---- POST /upload: decompression bombs of every format ----
            new Hostile("PNG announcing 100000x100000", upload(file("huge.png",
                    ImageBombs.png("IHDR", ImageBombs.ihdr(100_000, 100_000, 2)))), 413, "too_many_pixels"),
            new Hostile("PNG of 36 MP in 97 bytes", upload(file("bomb.png", ImageBombs.pngBomb(6000, 6000))), 422,
                    "truncated_image"),
            new Hostile("GIF of 36 MP in 35 bytes", upload(file("bomb.gif", ImageBombs.gifBomb(6000, 6000))), 422,
                    "truncated_image"),
            new Hostile("GIF logical screen of 4 GP", upload(file("screen.gif",
                    ImageBombs.gifWithHugeScreen(65535, 65535))), 413, "too_many_pixels"),
            new Hostile("GIF second frame of 4 GP", upload(file("frames.gif",
                    ImageBombs.gifWithHugeSecondFrame(65535, 65535))), 413, "too_many_pixels"),
            new Hostile("RLE BMP of 36 MP in 64 bytes", upload(file("bomb.bmp", ImageBombs.bmpRleBomb(6000, 6000))),
                    422, "truncated_image"),
            new Hostile("BMP wrapping a PNG of 512 MP", upload(file("wrap.bmp", ImageBombs.bmpEmbedding(1, 1, 5,
                    ImageBombs.pngBomb(32768, 16384)))), 413, "too_many_pixels"),
            new Hostile("BMP wrapping a JPEG of 3.6 GP", upload(file("wrap2.bmp", ImageBombs.bmpEmbedding(1, 1, 4,
                    ImageBombs.jpegWithSize(smallJpeg, 60000, 60000)))), 413, "too_many_pixels"),
            new Hostile("JPEG of 36 MP in 700 bytes", upload(file("bomb.jpg",
                    ImageBombs.jpegWithSize(smallJpeg, 6000, 6000))), 422, "truncated_image"),
            new Hostile("progressive JPEG of 65 scans", upload(file("scans.jpg", manyScans)), 422, "corrupt_image"),
            // ---- POST /upload: broken requests ----
            new Hostile("no file field", upload(field("image", "cat")), 400, "missing_file"),
            new Hostile("no parts at all", upload(), 400, null),
            new Hostile("JSON instead of multipart", post("/upload", true, "application/json", "{\"file\":1}"), 415,
                    "not_multipart"),
            new Hostile("multipart without a boundary", post("/upload", true, "multipart/form-data", "--x--\r\n"), 400,
                    null),
            new Hostile("multipart of garbage", post("/upload", true, "multipart/form-data; boundary=" + BOUNDARY,
                    "garbage"), 400, "malformed_multipart"),
            new Hostile("multipart without its closing boundary", post("/upload", true, "multipart/form-data; boundary="
                    + BOUNDARY, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\""
                    + "\r\n\r\nabc"), 400, "malformed_multipart"),
            new Hostile("category given twice", upload(file("ok.png", png), field("category", "a"),
                    field("category", "b")), 400, "invalid_category"),
            new Hostile("category with a control character", upload(file("ok.png", png), field("category",
                    "cat\u0007")), 400, "invalid_category"),
            new Hostile("category of 201 characters", upload(file("ok.png", png), field("category", "c".repeat(201))),
                    400, "invalid_category"),
            new Hostile("more files than allowed", upload(file("1.png", png), file("2.png", png), file("3.png", png),
                    file("4.png", png)), 400, "too_many_files"),
            new Hostile("a good file beside a bad one", upload(file("good.png", png), file("bad.jpg", text)), 415,
                    "not_an_image"),
            new Hostile("declared body far over the limit", new Request("POST /upload HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + TOKEN + "\r\nContent-Type: multipart/form-data; boundary=" + BOUNDARY
                    + "\r\nContent-Length: 10000000000\r\nConnection: close\r\n\r\n--" + BOUNDARY + "\r\n"), 413, null),
            new Hostile("upload without the token", new Request(multipart("/upload", null, List.of(file("ok.png", png)),
                    "")), 401, "unauthorized"),
            new Hostile("upload with a wrong token", new Request(multipart("/upload", "wrong", List.of(file("ok.png",
                    png)), "")), 401, "invalid_token"),
            new Hostile("upload from another site's page", new Request(multipart("/upload", TOKEN,
                    List.of(file("ok.png", png)), "Origin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\n")),
                    403, "cross_origin_refused"),
            new Hostile("upload with a NUL in its file name", upload(file("a\u0000b.png", png)), 400, null),
            new Hostile("upload with a 4,100-byte file name", upload(file("n".repeat(4_096) + ".png", png)), 400,
                    "malformed_multipart"),
            new Hostile("GET /upload", get("/upload"), 405, "method_not_allowed"),
            new Hostile("PUT /upload", new Request("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n"), 405, "method_not_allowed"),
            // ---- searches ----
            new Hostile("search with text", search("/search", text), 415, "not_an_image"),
            new Hostile("search with a GIF bomb", search("/search", ImageBombs.gifBomb(6000, 6000)), 422,
                    "truncated_image"),
            new Hostile("search with a BMP bomb", search("/search/prototypes", ImageBombs.bmpRleBomb(6000, 6000)), 422,
                    "truncated_image"),
            new Hostile("search with two files", new Request(multipart("/search", null, List.of(file("a.jpg", jpeg),
                    file("b.jpg", jpeg)), "")), 400, "too_many_files"),
            new Hostile("limit=0", search("/search?limit=0", jpeg), 400, "invalid_parameter"),
            new Hostile("limit not a number", search("/search?limit=ten", jpeg), 400, "invalid_parameter"),
            new Hostile("limit given twice", search("/search?limit=5&limit=6", jpeg), 400, "invalid_parameter"),
            new Hostile("offset=-1", search("/search?offset=-1", jpeg), 400, "invalid_parameter"),
            new Hostile("min_similarity=NaN", search("/search?min_similarity=NaN", jpeg), 400, "invalid_parameter"),
            new Hostile("top_categories past 2^63", search("/search?top_categories=99999999999999999999", jpeg), 400,
                    "invalid_parameter"),
            new Hostile("use_prototypes=maybe", search("/search?use_prototypes=maybe", jpeg), 400,
                    "invalid_parameter"),
            new Hostile("prototype search without a file", post("/search/prototypes", false,
                    "multipart/form-data; boundary=" + BOUNDARY, "--" + BOUNDARY + "--\r\n"), 400, null),
            new Hostile("GET /search", get("/search"), 405, "method_not_allowed"),
            // ---- images: ids out of range ----
            new Hostile("image id 0", get("/images/0"), 400, "invalid_image_id"),
            new Hostile("image id -1", get("/images/-1"), 400, "invalid_image_id"),
            new Hostile("image id 2^63", get("/images/9223372036854775808"), 400, "invalid_image_id"),
            new Hostile("image id in exponent form", get("/images/1e3/similar"), 400, "invalid_image_id"),
            new Hostile("image id not a number", get("/images/abc/content"), 400, "invalid_image_id"),
            new Hostile("unknown image", get("/images/123456789"), 404, "unknown_image"),
            new Hostile("unknown image's bytes", get("/images/123456789/content"), 404, "unknown_image"),
            new Hostile("unknown image's neighbours", get("/images/123456789/similar"), 404, "unknown_image"),
            new Hostile("POST /images/1", new Request("POST /images/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n"), 405, "method_not_allowed"),
            // ---- admin ----
            new Hostile("reindex without the token", post("/admin/reindex", false, "text/plain", ""), 401,
                    "unauthorized"),
            new Hostile("reindex from another site's page", new Request("POST /admin/reindex HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + TOKEN + "\r\nOrigin: https://evil.example\r\nSec-Fetch-Site: cross-site"
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), 403, "cross_origin_refused"),
            new Hostile("reindex?wait=maybe", post("/admin/reindex?wait=maybe", true, "text/plain", ""), 400,
                    "invalid_parameter"),
            new Hostile("GET /admin/reindex", get("/admin/reindex"), 405, "method_not_allowed"),
            // ---- paths ----
            new Hostile("encoded dot-dot out of /app", get("/app/%2e%2e/%2e%2e/etc/passwd"), 400, null),
            new Hostile("plain dot-dot out of /app", get("/app/../pom.xml"), 400, null),
            new Hostile("encoded dot in /app", get("/app/%2e"), 400, "invalid_path"),
            new Hostile("dot-dot with a parameter", get("/app/..;/pom.xml"), 400, "invalid_path"),
            new Hostile("dot-dot through the image routes", get("/images/%2e%2e/content"), 400, null),
            new Hostile("unknown path", get("/etc/passwd"), 404, "not_found"),
            // ---- the protocol itself ----
            new Hostile("space in the URI", new Request("GET /images/1 2 HTTP/1.1\r\nHost: x\r\n\r\n"), 400, null),
            new Hostile("bad escape in the URI", new Request("GET /images/%ZZ HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
                    null),
            new Hostile("URI over 8 KiB", get(longUri), 414, "uri_too_long"),
            new Hostile("headers over 8 KiB", new Request("GET /status HTTP/1.1\r\nHost: x\r\n" + bigHeader + "\r\n"),
                    431, "headers_too_large"),
            new Hostile("Content-Length not a number", new Request("POST /search HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Length: abc\r\n\r\n"), 400, null),
            new Hostile("two Content-Lengths", new Request("POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    + "Content-Length: 5\r\n\r\nabcde"), 400, null),
            new Hostile("Content-Length beside chunked", new Request("POST /search HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400, null),
            new Hostile("no Host header", new Request("GET /status HTTP/1.1\r\n\r\n"), 400, null),
            new Hostile("unknown method", new Request("BREW /search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                    405, "method_not_allowed"),
            new Hostile("body slower than REQUEST_BODY_TIMEOUT_MS", new Request(("POST /search HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: multipart/form-data; boundary=" + BOUNDARY + "\r\nContent-Length: 5000\r\n\r\n--"
                    + BOUNDARY + "\r\n").getBytes(StandardCharsets.US_ASCII)), 408, "request_timeout"));

        State before = state();
        Map<String, Integer> seen = new LinkedHashMap<>();
        SoftAssertions each = new SoftAssertions();
        for (Hostile c : cases) {
            Answer answer = http.send(c.request().bytes());
            each.check(() -> answer.assertJsonError(c.name(), c.status(), c.error()));
            seen.put(c.name(), answer.status());
        }
        each.assertAll();
        // Parallel bad uploads: bombs and broken files from 16 clients at once.
        List<byte[]> bad = List.of(ImageBombs.pngBomb(6000, 6000), ImageBombs.gifBomb(6000, 6000),
                ImageBombs.bmpRleBomb(6000, 6000), half(jpeg), text, corruptPng, manyScans,
                ImageBombs.jpegWithSize(smallJpeg, 6000, 6000));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Callable<Answer>> uploads = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                byte[] file = bad.get(i % bad.size());
                uploads.add(() -> http.send(upload(file("parallel.bin", file)).bytes()));
            }
            int i = 0;
            for (Future<Answer> f : pool.invokeAll(uploads, 5, TimeUnit.MINUTES)) {
                Answer answer = f.get();
                assertThat(answer.status()).as("parallel upload %d: %s", i, answer).isIn(413, 415, 422, 503);
                answer.assertJsonError("parallel upload " + i, answer.status(), null);
                seen.put("parallel bad upload " + i++, answer.status());
            }
        } finally {
            pool.shutdownNow();
        }

        State after = state();
        assertThat(after).as("nothing stored, queued, published or counted").isEqualTo(before);
        assertThat(TestServers.spooledFiles(temp.resolve("spool"))).as("no temporary file left").isEmpty();
        assertThat(DecodeBudget.shared().inUse()).as("no decode budget held").isZero();
        assertGoodSearch();

        Map<Integer, Long> byStatus = new TreeMap<>(seen.values().stream()
                .collect(Collectors.groupingBy(s -> s, Collectors.counting())));
        LOG.info("Hostile requests: {} distinct kinds plus 32 parallel bad uploads, {} in all; statuses seen: {}",
                cases.size(), seen.size(), byStatus);
        assertThat(cases.stream().map(Hostile::name).distinct().count()).isEqualTo(cases.size()).isGreaterThanOrEqualTo(40);
    }

    @Test
    void a_search_finding_the_decode_budget_full_waits_briefly_then_answers_503_with_retry_after() throws Exception {
        byte[] jpeg = library.images().get(7).bytes();
        State before = state();
        DecodeBudget budget = DecodeBudget.shared();
        try (DecodeBudget.Permit all = budget.acquire(budget.capacity(), Duration.ofMinutes(1))) {
            Answer answer = http.send(search("/search", jpeg).bytes());
            answer.assertJsonError("a full decode budget", 503, "overloaded");
            assertThat(answer.header("Retry-After")).isNotBlank();
        }
        assertThat(state()).isEqualTo(before);
        assertGoodSearch();
    }

    @Test
    void an_unknown_images_404_is_not_cacheable_and_a_known_images_bytes_are() throws Exception {
        Answer missing = http.send(get("/images/987654321/content").bytes());
        missing.assertJsonError("unknown image", 404, "unknown_image");
        assertThat(missing.header("Cache-Control")).isEqualTo("no-store");
        assertThat(missing.header("ETag")).isNull();

        Answer found = http.send(get("/images/" + library.images().get(0).imageId() + "/content").bytes());
        assertThat(found.status()).isEqualTo(200);
        assertThat(found.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    }

    @Test
    void behind_a_token_an_images_bytes_are_cacheable_by_the_client_only() throws Exception {
        try (QueryServer closed = QueryServer.start(options(temp.resolve("closed-index.bin"), Map.of("SEARCH_REQUIRES_TOKEN", "true")))) {
            new ApiClient(closed.port(), null).awaitReady(DEADLINE);
            RawHttp client = new RawHttp(closed.port());
            String path = "/images/" + library.images().get(1).imageId() + "/content";
            Answer anonymous = client.send(get(path).bytes());
            anonymous.assertJsonError("no token", 401, "unauthorized");
            assertThat(anonymous.header("Cache-Control")).isEqualTo("no-store");
            Answer withToken = client.send(("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(withToken.status()).isEqualTo(200);
            assertThat(withToken.header("Cache-Control")).startsWith("private");
        }
    }

    // ---- requests -------------------------------------------------------------------------

    /** The bytes of one request, sent as they are. */
    record Request(byte[] bytes) {
        Request(String text) {
            this(text.getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    /** One multipart part; {@code fileName} null for a plain field. */
    record Part(String name, String fileName, byte[] data) {}

    private static Part file(String fileName, byte[] data) {
        return new Part("file", fileName, data);
    }

    private static Part field(String name, String value) {
        return new Part(name, null, value.getBytes(StandardCharsets.UTF_8));
    }

    private static Request upload(Part... parts) {
        return new Request(multipart("/upload", TOKEN, List.of(parts), ""));
    }

    private static Request search(String path, byte[] image) {
        return new Request(multipart(path, null, List.of(file("query.jpg", image)), ""));
    }

    private static Request get(String path) {
        return new Request("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }

    private static Request post(String path, boolean withToken, String contentType, String body) {
        byte[] data = body.getBytes(StandardCharsets.ISO_8859_1);
        return new Request(concat(("POST " + path + " HTTP/1.1\r\nHost: x\r\n"
                + (withToken ? "Authorization: Bearer " + TOKEN + "\r\n" : "") + "Content-Type: " + contentType
                + "\r\nContent-Length: " + data.length + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1), data));
    }

    private static byte[] multipart(String path, String token, List<Part> parts, String extraHeaders) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Part part : parts) {
            body.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + part.name() + "\""
                    + (part.fileName() == null ? "" : "; filename=\"" + part.fileName() + "\"\r\n"
                            + "Content-Type: application/octet-stream") + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.writeBytes(part.data());
            body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        body.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        String head = "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + (token == null ? "" : "Authorization: Bearer "
                + token + "\r\n") + extraHeaders + "Content-Type: multipart/form-data; boundary=" + BOUNDARY
                + "\r\nContent-Length: " + body.size() + "\r\nConnection: close\r\n\r\n";
        return concat(head.getBytes(StandardCharsets.US_ASCII), body.toByteArray());
    }

    // ---- what must not change -----------------------------------------------------------------

    /** Row counts, the upload topic's end offset, and the upload and search counters. */
    record State(Map<String, Long> rows, long publishedRecords, List<String> counters) {}

    private State state() throws Exception {
        Map<String, Long> rows = new LinkedHashMap<>();
        try (Connection c = library.database().connect(); Statement s = c.createStatement()) {
            for (String table : List.of("images", "vectors", "uploads", "dead_letters", "categories",
                    "_category_prototypes")) {
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
                    r.next();
                    rows.put(table, r.getLong(1));
                }
            }
        }
        return new State(rows, endOffset(), counters());
    }

    private long endOffset() {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.get().bootstrapServers()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return consumer.endOffsets(List.of(partition), DEADLINE).get(partition);
        }
    }

    private List<String> counters() {
        Answer metrics = http.send(get("/metrics").bytes());
        assertThat(metrics.status()).isEqualTo(200);
        return metrics.text().lines()
                .filter(l -> l.startsWith("imsrc_uploads_total") || l.startsWith("imsrc_searches_total"))
                .toList();
    }

    private void assertGoodSearch() {
        CifarImages.Image query = library.images().get(11);
        Answer answer = http.send(search("/search?use_prototypes=false&limit=3", query.bytes()).bytes());
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        JsonNode results = answer.json().get("results");
        assertThat(results).hasSize(3);
        assertThat(results.get(0).get("image_id").asLong()).isEqualTo(query.imageId());
    }

    // ---- bytes ----------------------------------------------------------------------------

    private static byte[] half(byte[] bytes) {
        return Arrays.copyOf(bytes, bytes.length / 2);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
