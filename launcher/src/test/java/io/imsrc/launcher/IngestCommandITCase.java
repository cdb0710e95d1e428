package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.config.Settings;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imsrc ingest} as a user runs it, in-process: embedded PostgreSQL and Kafka in the data
 * directory, the job in a local Flink whose dashboard and REST API show it and its metrics, a clean
 * stop, and a second start on the same data that stores nothing twice.
 */
class IngestCommandITCase {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir Path temp;

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static long vectors(IngestRun.Running running) throws Exception {
        try (Connection c = running.services().database().connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM vectors")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void ingest_runs_on_embedded_services_shows_in_the_dashboard_and_stops_cleanly() throws Exception {
        Path folder = CifarData.writeFolder(temp.resolve("images"), CifarData.asFiles(CifarData.sample("train", 3)));
        int dashboardPort = Ports.free(); // the test checks that the dashboard comes up on the port it names
        Map<String, String> env = new HashMap<>(Map.of(
                "DATA_DIR", temp.resolve("data").toString(),
                "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString(),
                "CIFAR10_SOURCE", folder + "#cifar-10-jpg/train",
                "FLINK_WEB_PORT", Integer.toString(dashboardPort),
                "CHECKPOINT_INTERVAL_MS", "500",
                "BATCH_SIZE", "16"));
        CapturedConsole console = new CapturedConsole();
        IngestCommand command = new IngestCommand().withSettings(Settings.of(env));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> console.commandLine(command).execute());
        try {
            runAndStop(command, exit, dashboardPort, console);
        } finally {
            command.stop(); // idempotent; frees the services if an assertion failed first
        }

        // A second start on the same data, bulk only: the folder is there already, nothing is added.
        CapturedConsole second = new CapturedConsole();
        assertThat(second.commandLine(new IngestCommand().withSettings(Settings.of(env))).execute("--no-uploads")).isZero();
        assertThat(second.out()).contains("done, 0 new images stored");
    }

    private void runAndStop(IngestCommand command, CompletableFuture<Integer> exit, int dashboardPort,
            CapturedConsole console) throws Exception {

        Waiting.until(() -> command.running() != null || exit.isDone(), "the job to start");
        assertThat(exit).isNotDone();
        IngestRun.Running running = command.running();
        Waiting.until(() -> vectors(running) == 30, "the folder to be ingested");
        String dashboard = running.dashboardUrl();
        assertThat(dashboard).isEqualTo("http://localhost:" + dashboardPort);

        JsonNode jobs = get(dashboard + "/jobs/overview").get("jobs");
        assertThat(jobs).hasSize(1);
        assertThat(jobs.get(0).get("name").asText()).isEqualTo("imsrc ingest");
        assertThat(jobs.get(0).get("state").asText()).as("uploads keep the job running").isEqualTo("RUNNING");
        String jobId = jobs.get(0).get("jid").asText();
        JsonNode vertices = get(dashboard + "/jobs/" + jobId).get("vertices");
        List<String> names = vertices.findValuesAsText("name");
        assertThat(String.join("\n", names)).contains("admit: dedup + decode", "embed: micro-batches", "prototypes",
                "uploads: Kafka imsrc.uploads", "PostgreSQL: images + vectors");
        String embedVertex = null;
        for (JsonNode vertex : vertices) {
            if (vertex.get("name").asText().contains("embed: micro-batches")) {
                embedVertex = vertex.get("id").asText();
            }
        }
        String metrics = dashboard + "/jobs/" + jobId + "/vertices/" + embedVertex + "/metrics";
        // One counter per embedding subtask (FLINK_PARALLELISM=auto: one per core); their sum is the
        // total. The REST server fetches metrics from the task managers every few seconds, so the
        // list starts empty.
        List<String> embeddedMetrics = new java.util.ArrayList<>();
        Waiting.until(() -> {
            embeddedMetrics.clear();
            for (JsonNode metric : get(metrics)) {
                if (metric.get("id").asText().endsWith(".imagesEmbedded")) {
                    embeddedMetrics.add(metric.get("id").asText());
                }
            }
            return !embeddedMetrics.isEmpty();
        }, "the embedding operator's metrics to be in the dashboard");
        String metricUrl = metrics + "?get=" + String.join(",", embeddedMetrics);
        Waiting.until(() -> {
            int sum = 0;
            for (JsonNode value : get(metricUrl)) {
                sum += value.get("value").asInt();
            }
            return sum == 30;
        }, "the metrics to report 30 images embedded");
        String out = console.out();
        assertThat(out).contains("Flink dashboard  " + dashboard).contains("PostgreSQL       jdbc:postgresql://")
                .contains("(embedded)");
        int kafkaPort = Integer.parseInt(running.services().kafkaBootstrapServers().split(":")[1]);
        int postgresPort = Integer.parseInt(running.services().database().jdbcUrl().replaceAll(".*:(\\d+)/.*", "$1"));

        command.stop();

        assertThat(exit.get()).isZero();
        assertThat(console.out()).contains("imsrc ingest: stopped, 30 new images stored");
        Waiting.until(() -> Ports.isFree(dashboardPort) && Ports.isFree(kafkaPort) && Ports.isFree(postgresPort),
                "the dashboard, Kafka and PostgreSQL ports to be free again");
    }
}
