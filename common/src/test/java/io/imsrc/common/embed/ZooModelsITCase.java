package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.testing.SharedFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MODEL_NAME=resnet18 through DJL's repository code against a model repository served on
 * 127.0.0.1 in DJL's layout (metadata.json, a zipped TorchScript file and its SHA-1), never the
 * internet. The served TorchScript is the small CIFAR ResNet-20 from the shared models, standing in
 * for the 45 MB ImageNet ResNet-18: what is tested is the download, the checksum, the cache under
 * DATA_DIR, offline use and the errors, not ImageNet features.
 */
class ZooModelsITCase {

    private static final String METADATA = "/model/cv/image_classification/ai/djl/pytorch/resnet18_embedding/metadata.json";
    private static final String ZIP = "/model/cv/image_classification/ai/djl/pytorch/resnet18_embedding/0.0.1/resnet18_embedding.zip";

    @TempDir Path temp;

    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();

    @AfterEach
    void stop() {
        System.clearProperty("DJL_REPO_URL");
        if (server != null) {
            server.stop(0);
        }
    }

    private String serve(String sha1Override) throws Exception {
        byte[] model = Files.readAllBytes(SharedFiles.model("resnet20-cifar10.pt"));
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(zip)) {
            out.putNextEntry(new ZipEntry("resnet18_embedding.pt"));
            out.write(model);
            out.closeEntry();
        }
        byte[] zipBytes = zip.toByteArray();
        String sha1 = sha1Override != null ? sha1Override
                : HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(zipBytes));
        String metadata = """
                {"metadataVersion": "0.1", "resourceType": "model", "application": "cv/image_classification",
                 "groupId": "ai.djl.pytorch", "artifactId": "resnet18_embedding", "name": "resnet18_embedding",
                 "artifacts": [{"version": "0.0.1", "snapshot": false, "name": "resnet18_embedding",
                   "files": {"model": {"uri": "0.0.1/resnet18_embedding.zip", "name": "", "sha1Hash": "%s",
                     "size": %d}}}]}""".formatted(sha1, zipBytes.length);
        served.put(METADATA, metadata.getBytes(StandardCharsets.UTF_8));
        served.put(ZIP, zipBytes);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = served.get(exchange.getRequestURI().getPath());
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            if (exchange.getRequestURI().getPath().equals(ZIP)) {
                downloads.incrementAndGet();
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        System.setProperty("DJL_REPO_URL", url);
        return url;
    }

    @Test
    void resnet18_is_downloaded_checked_and_cached_under_the_data_directory_then_used_offline() throws Exception {
        serve(null);
        Path data = temp.resolve("data");
        ImsrcConfig config = ImsrcConfig.from(Settings.of(Map.of("DATA_DIR", data.toString(), "MODEL_NAME", "resnet18")));

        ConfiguredModel model = ConfiguredModel.resolve(config);
        assertThat(model.description().model()).isEqualTo("djl://ai.djl.pytorch/resnet18_embedding/0.0.1");
        assertThat(model.modelId().value()).startsWith("resnet18-");
        Path file = ModelLocator.resolve(model.description().model(), model.cacheDir());
        assertThat(file).startsWith(data.resolve("models/djl").toAbsolutePath());
        assertThat(Files.mismatch(file, SharedFiles.model("resnet20-cifar10.pt"))).isEqualTo(-1L);
        assertThat(downloads.get()).isEqualTo(1);

        // 224 x 224 with ImageNet normalisation, as the description says; the stand-in pools globally.
        try (Embedder embedder = Embedder.load(model.description(), EmbedderOptions.builder()
                .device(Device.CPU).modelCacheDir(model.cacheDir()).build())) {
            assertThat(embedder.description().inputWidth()).isEqualTo(224);
            assertThat(embedder.dimension()).isEqualTo(64);
        }

        // The repository gone: the cached copy is used (DJL runs offline in the tests and in bin/imsrc).
        server.stop(0);
        server = null;
        assertThat(ConfiguredModel.resolve(config).modelId()).isEqualTo(model.modelId());
        assertThat(downloads.get()).isEqualTo(1);
    }

    @Test
    void a_download_that_fails_its_checksum_is_refused_and_leaves_nothing_behind() throws Exception {
        serve("0000000000000000000000000000000000000000");
        Path data = temp.resolve("data");
        ImsrcConfig config = ImsrcConfig.from(Settings.of(Map.of("DATA_DIR", data.toString(), "MODEL_NAME", "resnet18")));
        assertThatThrownBy(() -> ConfiguredModel.resolve(config))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("sha1");
        try (var files = Files.walk(data.resolve("models/djl"))) {
            assertThat(files.filter(f -> f.toString().endsWith(".pt"))).isEmpty();
        }
    }

    @Test
    void offline_without_a_copy_the_error_names_what_was_tried_where_a_copy_goes_and_the_variables() throws Exception {
        String url = serve(null);
        server.stop(0);
        server = null;
        Path data = temp.resolve("data");
        ImsrcConfig config = ImsrcConfig.from(Settings.of(Map.of("DATA_DIR", data.toString(), "MODEL_NAME", "resnet18")));
        assertThatThrownBy(() -> ConfiguredModel.resolve(config))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("tried " + url + "model/cv/image_classification/ai/djl/pytorch/resnet18_embedding/metadata.json")
                .hasMessageContaining(data.resolve("models/djl").toAbsolutePath().toString())
                .hasMessageContaining("MODEL_PATH")
                .hasMessageContaining("DJL_REPO_URL");
    }
}
