package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.testing.LocalHttpServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLocatorTest {

    @Test
    void a_path_resolves_to_itself() throws IOException {
        Path file = Files.createTempFile("model", ".pt");
        try {
            assertThat(ModelLocator.resolve(file.toString(), Path.of("unused"))).isEqualTo(file);
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void a_missing_file_is_reported_with_its_path(@TempDir Path dir) {
        assertThatThrownBy(() -> ModelLocator.resolve(dir.resolve("nope.pt").toString(), dir))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("nope.pt");
    }

    @Test
    void a_url_is_downloaded_once_into_the_cache_and_then_reused(@TempDir Path cache) throws IOException {
        byte[] model = "not really torchscript".getBytes(StandardCharsets.UTF_8);
        try (LocalHttpServer server = LocalHttpServer.serving("/models/m.pt", model)) {
            Path first = ModelLocator.resolve(server.url(), cache);
            Path second = ModelLocator.resolve(server.url(), cache);

            assertThat(first).isEqualTo(second).hasBinaryContent(model);
            assertThat(first.getFileName().toString()).endsWith("-m.pt");
            assertThat(server.requests()).isEqualTo(1);
            assertThat(ModelId.forFile("m", first)).isEqualTo(ModelId.forFile("m", first));
            try (var files = Files.list(cache)) {
                assertThat(files).as("no partial download is left behind").containsExactly(first);
            }
        }
    }

    @Test
    void a_failed_download_leaves_nothing_in_the_cache(@TempDir Path cache) throws IOException {
        try (LocalHttpServer server = LocalHttpServer.failing("/missing.pt", 404)) {
            assertThatThrownBy(() -> ModelLocator.resolve(server.url(), cache))
                    .isInstanceOf(IOException.class).hasMessageContaining("404");
            try (var files = Files.list(cache)) {
                assertThat(files).isEmpty();
            }
        }
    }
}
