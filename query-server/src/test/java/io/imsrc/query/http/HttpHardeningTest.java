package io.imsrc.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.query.testing.RawHttp;
import io.imsrc.query.testing.RawHttp.Answer;
import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's protections without the services behind it: a Javalin server with the query
 * server's own {@link RequestHardening} (the same guards, in the same order), with stand-in routes, spoken to over raw sockets so that requests an HTTP
 * client would refuse to send reach it as they are.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpHardeningTest {

    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(2);

    @TempDir static Path spool;
    private Javalin app;
    private RawHttp http;

    @BeforeAll
    void start() {
        BodyDeadline deadline = new BodyDeadline(BODY_TIMEOUT);
        BrowserOrigins origins = new BrowserOrigins(List.of("https://tools.example.org"));
        RequestImages images = new RequestImages(spool, 1 << 20, 2, ImageDecodeOptions.defaults());
        app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.jsonMapper(new JavalinJackson(ApiJson.mapper(), false));
            config.http.prefer405over404 = true;
            RequestHardening.configure(config);
            config.staticFiles.add(files -> {
                files.hostedPath = "/app";
                files.directory = "/io/imsrc/query/app";
                files.location = Location.CLASSPATH;
            });
        });
        RequestHardening.install(app, deadline, origins, ctx -> { }, ctx -> { }, ctx -> { });
        app.get("/ok", ctx -> ctx.result("ok"), Access.OPEN);
        app.post("/upload", ctx -> ctx.result("files: " + images.read(ctx).size()), Access.WRITE);
        app.post("/echo", ctx -> ctx.result("read " + ctx.bodyAsBytes().length), Access.READ);
        app.get("/send-error", ctx -> ctx.res().sendError(413, "too much"), Access.OPEN);
        app.get("/out-of-memory", ctx -> {
            throw new OutOfMemoryError("Java heap space (thrown by the test)");
        }, Access.OPEN);
        app.get("/stack-overflow", ctx -> {
            throw new StackOverflowError();
        }, Access.OPEN);
        app.start("127.0.0.1", 0);
        http = new RawHttp(app.port());
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.stop();
        }
    }

    // ---- Jetty's own refusals -------------------------------------------------------------

    @Test
    void requests_jetty_refuses_before_any_handler_get_the_apis_json_error() {
        String longUri = "/ok?" + "q=".repeat(5000);
        String bigHeader = "X-Padding: " + "a".repeat(9000) + "\r\n";
        Object[][] cases = {
            {"a space in the path", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
            {"a bad escape", "GET /images/%ZZ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
            {"an encoded NUL", "GET /images/%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
            {"an encoded dot-dot into the app", "GET /app/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400},
            {"a plain dot-dot into the app", "GET /app/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400},
            {"a URI over 8 KiB", "GET " + longUri + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
            {"headers over 8 KiB", "GET /ok HTTP/1.1\r\nHost: x\r\n" + bigHeader + "\r\n", 431},
            {"a Content-Length that is not a number", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
            {"a negative Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
            {"two Content-Lengths", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                400},
            {"a Content-Length over 2^63", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                400},
            {"Content-Length beside chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Length: 5\r\n\r\n0\r\n\r\n", 400},
            {"no Host", "GET /ok HTTP/1.1\r\n\r\n", 400},
            {"no URI", "garbage\r\n\r\n", 400},
            {"an HTTP version that does not exist", "GET /ok HTTP/9.9\r\nHost: x\r\n\r\n", 505},
            {"TRACE", "TRACE /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405},
            {"OPTIONS on a write", "OPTIONS /upload HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                + "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n", 405},
        };
        for (Object[] c : cases) {
            http.send((String) c[1]).assertJsonError((String) c[0], (int) c[2], null);
        }
    }

    @Test
    void an_error_sent_through_the_servlet_response_is_json_too() {
        http.send("GET /send-error HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").assertJsonError("sendError", 413, null);
    }

    @Test
    void a_method_no_route_knows_is_405_not_404() {
        Answer answer = http.send("BREW /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        answer.assertJsonError("an unknown method", 405, null);
        assertThat(answer.json().get("error").asText()).isEqualTo("method_not_allowed");
    }

    @Test
    void dot_segments_that_reach_the_static_files_are_refused_or_not_found_never_500() {
        for (String path : List.of("/app/.", "/app/%2e", "/app/%2E/index.html", "/app/a/%2e%2e/index.html",
                "/app/..;/x", "/app/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/app/.%2e/.%2e/", "/app/%252e%252e/",
                "/images/%2e%2e", "/%2e%2e/%2e%2e/etc/passwd")) {
            Answer answer = http.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(answer.status()).as(path + ": " + answer).isIn(400, 404);
            answer.assertJsonError(path, answer.status(), null);
        }
    }

    // ---- Errors on request threads ------------------------------------------------------------

    @Test
    void an_out_of_memory_error_in_a_handler_is_a_json_503_and_the_server_goes_on() {
        Answer answer = http.send("GET /out-of-memory HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        answer.assertJsonError("out of memory", 503, null);
        assertThat(answer.json().get("error").asText()).isEqualTo("out_of_memory");
        assertThat(answer.header("Retry-After")).isNotBlank();
        http.send("GET /stack-overflow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .assertJsonError("stack overflow", 503, null);
        assertThat(http.send("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status()).isEqualTo(200);
    }

    // ---- slow bodies ----------------------------------------------------------------------

    @Test
    void a_body_that_stops_arriving_is_answered_408_at_its_deadline() {
        long sent = System.nanoTime();
        Answer answer = http.send(out -> {
            out.write(("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(10))
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
        Duration waited = Duration.ofNanos(System.nanoTime() - sent);

        answer.assertJsonError("a stalled body", 408, null);
        assertThat(answer.json().get("error").asText()).isEqualTo("request_timeout");
        // Not before the deadline, and not long after it (generously, for a loaded machine).
        assertThat(waited).isBetween(BODY_TIMEOUT.minusMillis(100), BODY_TIMEOUT.plusSeconds(30));
    }

    @Test
    void a_body_that_trickles_in_is_answered_408_though_every_byte_comes_within_the_idle_timeout() {
        String boundary = "b0undary";
        Answer answer = http.send(out -> {
            out.write(("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + boundary
                    + "\r\nContent-Length: 100000\r\n\r\n--" + boundary + "\r\nContent-Disposition: form-data; "
                    + "name=\"file\"; filename=\"slow.png\"\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // A byte every 200 ms: each gap is far below Jetty's idle timeout, the whole far beyond the deadline.
            for (int i = 0; i < 200; i++) {
                Thread.sleep(200);
                out.write('x');
                out.flush();
            }
        });

        answer.assertJsonError("a trickling body", 408, null);
    }

    @Test
    void a_body_that_arrives_in_time_is_read() {
        Answer answer = http.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");

        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("read 5");
    }

    @Test
    void the_deadline_never_lengthens_the_connections_own_idle_timeout() {
        assertThat(BodyDeadline.idleTimeout(30_000, 60_000)).isEqualTo(30_000);
        assertThat(BodyDeadline.idleTimeout(30_000, 1_200)).isEqualTo(1_200);
        assertThat(BodyDeadline.idleTimeout(0, 60_000)).as("no idle timeout of its own").isEqualTo(60_000);
    }

    // ---- writes from other sites' pages ------------------------------------------------------

    @Test
    void writes_from_another_sites_page_are_refused_and_those_from_the_app_or_non_browsers_are_not() {
        String body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nx\r\n--b--\r\n";
        Object[][] cases = {
            {"no browser headers (curl, scripts)", "", 200},
            {"the app page (same origin)", "Sec-Fetch-Site: same-origin\r\nOrigin: http://x\r\n", 200},
            {"another site", "Sec-Fetch-Site: cross-site\r\nOrigin: https://evil.example\r\n", 403},
            {"a sibling subdomain", "Sec-Fetch-Site: same-site\r\nOrigin: https://other.x\r\n", 403},
            {"an allowed origin", "Sec-Fetch-Site: cross-site\r\nOrigin: https://tools.example.org\r\n", 200},
            {"an older browser, same host", "Origin: http://x\r\n", 200},
            {"an older browser, another host", "Origin: http://evil.example\r\n", 403},
            {"a sandboxed page", "Origin: null\r\n", 403},
        };
        for (Object[] c : cases) {
            Answer answer = http.send("POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + c[1]
                    + "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: " + body.length() + "\r\n\r\n"
                    + body);
            assertThat(answer.status()).as(c[0] + ": " + answer).isEqualTo((int) c[2]);
            if ((int) c[2] == 403) {
                answer.assertJsonError((String) c[0], 403, null);
                assertThat(answer.json().get("error").asText()).isEqualTo("cross_origin_refused");
            }
        }
        // Reads are not writes: a cross-site search stays possible.
        Answer read = http.send("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nSec-Fetch-Site: cross-site\r\n"
                + "Origin: https://evil.example\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(read.status()).isEqualTo(200);
    }

}
