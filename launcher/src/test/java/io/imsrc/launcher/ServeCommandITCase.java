package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.Settings;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imsrc serve} as a user runs it, in-process: the query server on an embedded PostgreSQL in
 * the data directory, without Kafka, answering on API_PORT until stopped; a stop frees the port and
 * saves the index.
 */
class ServeCommandITCase {

    @TempDir Path temp;

    @Test
    void serve_runs_the_query_server_on_embedded_services_and_stops_cleanly() throws Exception {
        Map<String, String> env = Map.of(
                "DATA_DIR", temp.resolve("data").toString(),
                "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString(),
                "API_HOST", "127.0.0.1",
                "API_PORT", "0");
        CapturedConsole console = new CapturedConsole();
        ServeCommand serve = new ServeCommand().withSettings(Settings.of(env));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> console.commandLine(serve).execute("--no-uploads"));
        int port;
        try {
            Waiting.until(() -> serve.server() != null || exit.isDone(), "the server to start");
            assertThat(exit).as(console.out()).isNotDone();
            port = serve.server().port(); // API_PORT=0: the one it bound
            ApiClient api = new ApiClient(port, null);
            Waiting.until(() -> api.get("/health").status() == 200, "the index to be ready");
            assertThat(api.get("/status").json().get("services").get("kafka").get("configured").asBoolean()).isFalse();
            assertThat(api.postFile("/upload", new byte[] {1}).json().get("error").asText()).isEqualTo("uploads_disabled");
            assertThat(console.out()).contains("API              http://localhost:" + port)
                    .contains("(embedded)");
        } finally {
            serve.stop();
        }
        assertThat(exit.get()).isZero();
        int apiPort = port;
        Waiting.until(() -> Ports.isFree(apiPort), "the API port to be free again");
        assertThat(temp.resolve("data").resolve("faiss_index.bin")).as("the index saved on stop").exists();
    }
}
