package io.imsrc.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloadsTest {

    private static final byte[] CONTENT = "the archive".getBytes(StandardCharsets.US_ASCII);
    private static final String CONTENT_MD5 = "b36e1b321d2b400009780be3cc3226a0";

    @TempDir Path cache;
    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/data/archive.tar.gz", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(200, CONTENT.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(CONTENT);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/data/archive.tar.gz");
    }

    @Test
    void a_download_with_the_right_md5_is_cached_and_reused() throws IOException {
        Path copy = cache.resolve("copy");
        Files.write(copy, CONTENT);
        assertThat(Downloads.md5(copy)).isEqualTo(CONTENT_MD5);
        Files.delete(copy);
        Path target = Downloads.cachePath(url(), cache);

        assertThat(Downloads.fetch(url(), target, CONTENT_MD5.toUpperCase())).hasBinaryContent(CONTENT);
        assertThat(Downloads.fetch(url(), target, CONTENT_MD5)).hasBinaryContent(CONTENT);

        assertThat(requests).hasValue(1);
        assertThat(target.getFileName().toString()).endsWith("-archive.tar.gz");
        try (var files = Files.list(cache)) {
            assertThat(files).containsExactly(target);
        }
    }

    @Test
    void a_download_with_the_wrong_md5_is_refused_and_leaves_nothing() throws IOException {
        Path target = Downloads.cachePath(url(), cache);

        assertThatThrownBy(() -> Downloads.fetch(url(), target, "00000000000000000000000000000000"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("MD5 " + CONTENT_MD5)
                .hasMessageContaining(url().toString());
        try (var files = Files.list(cache)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void an_unreachable_server_is_named_in_the_error() throws IOException {
        URI url = url();
        server.stop(0);
        assertThatThrownBy(() -> Downloads.fetch(url, cache.resolve("x"), null))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(url.toString());
    }

    @Test
    void two_urls_never_share_a_cache_file() {
        assertThat(Downloads.cachePath(URI.create("http://a/x.tar.gz"), cache))
                .isNotEqualTo(Downloads.cachePath(URI.create("http://b/x.tar.gz"), cache));
    }
}
