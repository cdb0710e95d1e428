package io.imsrc.launcher;

import static io.imsrc.launcher.ImsrcProcesses.JDBC_URL;
import static io.imsrc.launcher.ImsrcProcesses.KAFKA;
import static io.imsrc.launcher.ImsrcProcesses.assertEverythingGone;
import static io.imsrc.launcher.ImsrcProcesses.awaitRunning;
import static io.imsrc.launcher.ImsrcProcesses.jdbcUrl;
import static io.imsrc.launcher.ImsrcProcesses.port;
import static io.imsrc.launcher.ImsrcProcesses.stop;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.launcher.job.FlinkRest;
import io.imsrc.common.config.Settings;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command for real: {@code bin/imsrc} with no subcommand, in a process of its
 * own as a user starts it, on a small CIFAR-10 subset and free ports, from a copy of the command
 * and the launcher's build in a folder with no {@code shared/} beside it and no model settings:
 * what a fresh clone has, so the default model must come from imsrc itself. Everything comes up (embedded
 * PostgreSQL and Kafka, the job in a local Flink with its dashboard, the query server), the subset
 * is ingested and searchable, Flink's REST API shows the job running with its metrics; SIGTERM (as
 * Ctrl-C) stops it all and frees every port and process; a second start finds the data, does not
 * read the subset again and counts nothing twice; a third start whose source cannot be read says so
 * and serves what is stored.
 */
class StartEndToEndITCase {

    private static final int PER_CLASS = 4;
    private static final int IMAGES = 10 * PER_CLASS;
    private static final Duration START_DEADLINE = Duration.ofMinutes(3);

    @TempDir Path temp;

    private ImsrcProcesses imsrc;

    @BeforeEach
    void processes() {
        imsrc = new ImsrcProcesses(temp, "start-e2e");
    }

    @AfterEach
    void killLeftovers() throws Exception {
        imsrc.close();
    }

    @Test
    void imsrc_starts_everything_ingests_serves_stops_cleanly_and_restarts_on_its_data() throws Exception {
        Path subset = CifarData.writeTar(temp.resolve("cifar-subset.tar.gz"),
                CifarData.asFiles(CifarData.sample("train", PER_CLASS)), true);
        // bin/imsrc runs in a process of its own and takes its ports from the environment.
        int apiPort = Ports.free();
        int dashboardPort = Ports.free();
        Path data = temp.resolve("data");
        Map<String, String> env = new HashMap<>(Map.of(
                "DATA_DIR", data.toString(),
                "CIFAR10_SOURCE", subset + "#cifar-10-jpg/train",
                "API_PORT", Integer.toString(apiPort),
                "FLINK_WEB_PORT", Integer.toString(dashboardPort),
                "CHECKPOINT_INTERVAL_MS", "1000",
                "BATCH_SIZE", "16"));
        ApiClient api = new ApiClient(apiPort, null);
        String dashboard = "http://localhost:" + dashboardPort;

        // First start: everything comes up and the subset is ingested.
        ImsrcProcesses.Run first = imsrc.start(env, "first");
        String console = awaitRunning(first, api, START_DEADLINE);
        assertThat(console).contains("API docs         http://localhost:" + apiPort + "/docs")
                .contains("Flink dashboard  " + dashboard).contains("(embedded)");
        Waiting.until(() -> api.get("/status").json().at("/index/vectors").asLong() == IMAGES,
                "the subset to be ingested and indexed", START_DEADLINE);
        JsonNode status = api.get("/status").json();
        assertThat(status.at("/counts/images").asLong()).isEqualTo(IMAGES);
        assertThat(status.at("/model/model_id").asText()).startsWith(ModelDescription.DEFAULT.name() + "-");

        byte[] query = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(), List.of("cifar-10-jpg/test/ship/0001.jpg"))
                .get("cifar-10-jpg/test/ship/0001.jpg");
        ApiClient.Response search = api.postMultipart("/search?limit=5", List.of(Part.file("file", "ship.jpg", query)));
        assertThat(search.status()).as(search.toString()).isEqualTo(200);
        assertThat(search.json().get("results")).hasSize(5);
        assertThat(search.json().get("results").get(0).get("url").asText()).startsWith("/images/");

        String jobId = assertJobRunningWithMetrics(dashboard);
        Waiting.until(() -> first.console().contains("read to the end (" + IMAGES + " images)"),
                "the subset to be recorded as ingested", START_DEADLINE);
        int postgresPort = port(JDBC_URL, first.console(), 2);
        int kafkaPort = port(KAFKA, first.console(), 1);

        stop(first);
        assertThat(first.console()).contains("stopped, " + IMAGES + " new images stored");
        assertEverythingGone(data, apiPort, dashboardPort, postgresPort, kafkaPort);
        assertThat(data.resolve("savepoints")).as("the job stopped with a savepoint").isNotEmptyDirectory();

        // Second start on the same data: the subset is not read again, nothing is counted twice.
        ImsrcProcesses.Run second = imsrc.start(env, "second");
        String again = awaitRunning(second, api, START_DEADLINE);
        assertThat(again).contains("was ingested on").contains("(" + IMAGES + " images); not reading it again")
                .doesNotContain("ends when").doesNotContain("ingested 0 of");
        String secondJob = assertJobRunningWithMetrics(dashboard);
        assertThat(secondJob).isNotEqualTo(jobId);
        Waiting.until(() -> api.get("/health/ready").status() == 200, "the index to be loaded", START_DEADLINE);
        JsonNode restarted = api.get("/status").json();
        assertThat(restarted.at("/counts/images").asLong()).isEqualTo(IMAGES);
        assertThat(restarted.at("/counts/vectors").asLong()).isEqualTo(IMAGES);
        assertThat(restarted.at("/index/vectors").asLong()).isEqualTo(IMAGES);
        // The job rebuilt its prototype state from PostgreSQL: give it a checkpoint to write back, then
        // every image is counted once.
        String jdbcUrl = jdbcUrl(second.console());
        Waiting.until(() -> prototypeCount(jdbcUrl) == IMAGES, "the prototypes to count each image once");
        Waiting.until(() -> checkpoints(dashboard, secondJob) >= 2, "two checkpoints of the restarted job");
        assertThat(prototypeCount(jdbcUrl)).isEqualTo(IMAGES);
        assertThat(api.postMultipart("/search?limit=3", List.of(Part.file("file", "ship.jpg", query))).status())
                .isEqualTo(200);

        int secondPostgres = port(JDBC_URL, second.console(), 2);
        int secondKafka = port(KAFKA, second.console(), 1);
        stop(second);
        assertThat(second.console()).contains("stopped, 0 new images stored");
        assertEverythingGone(data, apiPort, dashboardPort, secondPostgres, secondKafka);

        // Third start, offline with a source that cannot be read: it says so, and serves what is stored.
        env.put("CIFAR10_SOURCE", temp.resolve("nowhere.tar.gz") + "#train");
        ImsrcProcesses.Run third = imsrc.start(env, "third");
        awaitRunning(third, api, START_DEADLINE);
        assertThat(third.errors()).contains("WARNING: cannot read the source " + temp.resolve("nowhere.tar.gz"))
                .contains("starting without it: searches answer from the " + IMAGES + " images stored");
        Waiting.until(() -> api.get("/health/ready").status() == 200, "the index to be loaded", START_DEADLINE);
        assertThat(api.postMultipart("/search?limit=3", List.of(Part.file("file", "ship.jpg", query))).status())
                .isEqualTo(200);
        assertThat(api.get("/status").json().at("/counts/images").asLong()).isEqualTo(IMAGES);
        int thirdPostgres = port(JDBC_URL, third.console(), 2);
        int thirdKafka = port(KAFKA, third.console(), 1);
        stop(third);
        assertEverythingGone(data, apiPort, dashboardPort, thirdPostgres, thirdKafka);
    }

    @Test
    void a_first_start_without_a_readable_source_stops_with_what_to_do() throws Exception {
        Map<String, String> env = Map.of("DATA_DIR", temp.resolve("data").toString(),
                "CIFAR10_SOURCE", temp.resolve("nowhere.tar.gz") + "#train", "API_PORT", "0", "FLINK_WEB_PORT", "0");
        CapturedConsole console = new CapturedConsole();
        int exit = console.commandLine(new StartCommand().withSettings(Settings.of(env))).execute();
        assertThat(exit).isEqualTo(2);
        assertThat(console.err()).contains("imsrc start: " + temp.resolve("nowhere.tar.gz"))
                .contains("no such folder or archive").doesNotContain("WARNING");
    }

    /** The one job is RUNNING in Flink's REST API and reports its metrics; returns its id. */
    private static String assertJobRunningWithMetrics(String dashboard) throws Exception {
        FlinkRest rest = new FlinkRest(dashboard);
        JsonNode jobs = rest.get("/jobs/overview").get("jobs");
        assertThat(jobs).hasSize(1);
        assertThat(jobs.get(0).get("state").asText()).isEqualTo("RUNNING");
        String jobId = jobs.get(0).get("jid").asText();
        String admitVertex = null;
        for (JsonNode vertex : rest.get("/jobs/" + jobId).get("vertices")) {
            if (vertex.get("name").asText().contains("admit")) {
                admitVertex = vertex.get("id").asText();
            }
        }
        assertThat(admitVertex).as("the admission operator's vertex").isNotNull();
        String metrics = "/jobs/" + jobId + "/vertices/" + admitVertex + "/metrics";
        // The REST server fetches metrics from the task managers every few seconds: the list starts empty.
        Waiting.until(() -> {
            for (JsonNode metric : rest.get(metrics)) {
                if (metric.get("id").asText().endsWith(".numRecordsIn")) {
                    return true;
                }
            }
            return false;
        }, "the job's metrics in Flink's REST API");
        return jobId;
    }

    private static long checkpoints(String dashboard, String jobId) throws Exception {
        return new FlinkRest(dashboard).get("/jobs/" + jobId + "/checkpoints").at("/counts/completed").asLong();
    }

    private static long prototypeCount(String jdbcUrl) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT coalesce(sum(image_count), 0) FROM _category_prototypes")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
