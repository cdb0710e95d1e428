package io.imsrc.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.testing.LocalHttpServer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloadsTest {

    private static final byte[] CONTENT = "the archive".getBytes(StandardCharsets.US_ASCII);
    private static final String CONTENT_MD5 = "b36e1b321d2b400009780be3cc3226a0";

    @TempDir Path cache;

    @Test
    void a_download_with_the_right_md5_is_cached_and_reused() throws IOException {
        Path copy = cache.resolve("copy");
        Files.write(copy, CONTENT);
        assertThat(Downloads.md5(copy)).isEqualTo(CONTENT_MD5);
        Files.delete(copy);
        try (LocalHttpServer server = LocalHttpServer.serving("/data/archive.tar.gz", CONTENT)) {
            URI url = URI.create(server.url());
            Path target = Downloads.cachePath(url, cache);

            assertThat(Downloads.fetch(url, target, CONTENT_MD5.toUpperCase())).hasBinaryContent(CONTENT);
            assertThat(Downloads.fetch(url, target, CONTENT_MD5)).hasBinaryContent(CONTENT);

            assertThat(server.requests()).isEqualTo(1);
            assertThat(target.getFileName().toString()).endsWith("-archive.tar.gz");
            try (var files = Files.list(cache)) {
                assertThat(files).containsExactly(target);
            }
        }
    }

    @Test
    void a_download_with_the_wrong_md5_is_refused_and_leaves_nothing() throws IOException {
        try (LocalHttpServer server = LocalHttpServer.serving("/data/archive.tar.gz", CONTENT)) {
            URI url = URI.create(server.url());
            Path target = Downloads.cachePath(url, cache);

            assertThatThrownBy(() -> Downloads.fetch(url, target, "00000000000000000000000000000000"))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("MD5 " + CONTENT_MD5)
                    .hasMessageContaining(url.toString());
            try (var files = Files.list(cache)) {
                assertThat(files).isEmpty();
            }
        }
    }

    @Test
    void an_unreachable_server_is_named_in_the_error() throws IOException {
        URI url;
        try (LocalHttpServer server = LocalHttpServer.serving("/gone.tar.gz", CONTENT)) {
            url = URI.create(server.url());
        }
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
