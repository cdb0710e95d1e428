package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.testing.SharedFiles;
import io.imsrc.ingest.testing.CifarData;
import io.imsrc.ingest.testing.Waiting;
import io.imsrc.query.testing.ApiClient;
import io.imsrc.query.testing.ApiClient.Part;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
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
 * read the subset again and counts nothing twice.
 */
class StartEndToEndITCase {

    private static final int PER_CLASS = 4;
    private static final int IMAGES = 10 * PER_CLASS;
    private static final Duration START_DEADLINE = Duration.ofMinutes(3);
    private static final Pattern JDBC_URL = Pattern.compile("PostgreSQL\\s+(jdbc:postgresql://localhost:(\\d+)/\\w+)");
    private static final Pattern KAFKA = Pattern.compile("Kafka\\s+127\\.0\\.0\\.1:(\\d+)");

    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    /** The child's console stays in target/ for a failed run to be read. */
    private final Path logs = Path.of("target", "start-e2e").toAbsolutePath();
    private final List<Process> started = new ArrayList<>();

    @TempDir Path temp;

    private Path imsrc;

    /**
     * bin/imsrc with the launcher's build (its classes and runtime class path) in
     * TEMP/clone/imsrc, where {@code ../shared} does not exist.
     */
    private Path checkout() throws IOException {
        Path clone = temp.resolve("clone").resolve("imsrc");
        Files.createDirectories(clone.resolve("bin"));
        Files.copy(REPOSITORY.resolve("bin/imsrc"), clone.resolve("bin/imsrc"), StandardCopyOption.COPY_ATTRIBUTES);
        Path target = Files.createDirectories(clone.resolve("launcher/target"));
        Path built = REPOSITORY.resolve("launcher/target");
        Files.copy(built.resolve("runtime-classpath.txt"), target.resolve("runtime-classpath.txt"));
        Files.createSymbolicLink(target.resolve("classes"), built.resolve("classes"));
        assertThat(clone.resolveSibling("shared")).doesNotExist();
        assertThat(Files.readString(target.resolve("runtime-classpath.txt"))).doesNotContain("/shared/");
        return clone.resolve("bin/imsrc");
    }

    @AfterEach
    void killLeftovers() throws Exception {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** One run of {@code imsrc} and what it printed. */
    private record Run(Process process, Path stdout) {
        String console() throws IOException {
            return Files.readString(stdout, StandardCharsets.UTF_8);
        }
    }

    private Run start(Map<String, String> env, String name) throws IOException {
        Files.createDirectories(logs);
        Path stdout = logs.resolve(name + ".out");
        // The README's command itself: bin/imsrc runs the launcher on its runtime class path (not the
        // test's), as a user's shell does.
        if (imsrc == null) {
            imsrc = checkout();
        }
        ProcessBuilder builder = new ProcessBuilder(imsrc.toString())
                .directory(temp.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(logs.resolve(name + ".err").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("DB_") || k.startsWith("KAFKA_") || k.startsWith("FLINK_")
                || k.startsWith("MODEL_"));
        builder.environment().putAll(env);
        builder.environment().put("JAVA_OPTS", "-Xmx1g");
        builder.environment().remove("IMSRC_REBUILD");
        Process process = builder.start();
        started.add(process);
        return new Run(process, stdout);
    }

    @Test
    void imsrc_starts_everything_ingests_serves_stops_cleanly_and_restarts_on_its_data() throws Exception {
        Path subset = CifarData.writeTar(temp.resolve("cifar-subset.tar.gz"),
                CifarData.asFiles(CifarData.sample("train", PER_CLASS)), true);
        int apiPort = TestPorts.freePort();
        int dashboardPort = TestPorts.freePort();
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
        Run first = start(env, "first");
        String console = awaitRunning(first, api);
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
        Run second = start(env, "second");
        String again = awaitRunning(second, api);
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
    }

    /** Waits for the job and the API to be up and returns the console so far. */
    private String awaitRunning(Run run, ApiClient api) throws Exception {
        Waiting.until(() -> {
            if (!run.process().isAlive()) {
                throw new AssertionError("imsrc exited with " + run.process().exitValue() + ":\n" + run.console());
            }
            return run.console().contains("running") && api.get("/health/live").status() == 200;
        }, "imsrc to start", START_DEADLINE);
        return run.console();
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

    /** SIGTERM, as Ctrl-C: the JVM runs its shutdown hooks and exits. */
    private static void stop(Run run) throws Exception {
        run.process().destroy();
        assertThat(run.process().waitFor(3, TimeUnit.MINUTES)).as("imsrc to exit after SIGTERM").isTrue();
        // 143 = killed by SIGTERM after the hooks ran; 0 when main returned first.
        assertThat(run.process().exitValue()).isIn(0, 143);
    }

    private static void assertEverythingGone(Path data, int... ports) throws Exception {
        Waiting.until(() -> {
            for (int port : ports) {
                if (!TestPorts.isFree(port)) {
                    return false;
                }
            }
            return true;
        }, "every port to be free: API, dashboard, PostgreSQL, Kafka", Duration.ofSeconds(60));
        Waiting.until(() -> processesMentioning(data).isEmpty(), "no process left that uses the data directory",
                Duration.ofSeconds(60));
    }

    /** Processes whose command line names {@code dir} (the embedded PostgreSQL's server processes do). */
    private static List<String> processesMentioning(Path dir) throws IOException {
        List<String> found = new ArrayList<>();
        String needle = dir.toAbsolutePath().toString();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs::iterator) {
                if (!proc.getFileName().toString().matches("\\d+")) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    if (cmdline.contains(needle)) {
                        found.add(proc.getFileName() + ": " + cmdline);
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        }
        return found;
    }

    private static long prototypeCount(String jdbcUrl) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT coalesce(sum(image_count), 0) FROM _category_prototypes")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String jdbcUrl(String console) {
        Matcher m = JDBC_URL.matcher(console);
        assertThat(m.find()).as(console).isTrue();
        return m.group(1);
    }

    private static int port(Pattern pattern, String console, int group) {
        Matcher m = pattern.matcher(console);
        assertThat(m.find()).as(console).isTrue();
        return Integer.parseInt(m.group(group));
    }
}
