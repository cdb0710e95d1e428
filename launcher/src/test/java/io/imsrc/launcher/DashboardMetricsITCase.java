package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.IngestJob;
import io.imsrc.ingest.IngestJobOptions;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The Grafana dashboard of the compose topology (docker/grafana/dashboards/imsrc.json) asks only for
 * metrics that are exported, under the names and labels they are exported with: the query server's
 * {@code /metrics} as a real server answers it after searches, and Flink's own Prometheus reporter
 * (flink-metrics-prometheus, the one the flink image ships in plugins/ and the compose file turns
 * on) while the real ingest topology runs on a MiniCluster. A renamed metric or label on either side,
 * or a query that names one that does not exist, fails here rather than as an empty panel.
 */
class DashboardMetricsITCase {

    /** Labels Prometheus adds to every series it scrapes (a target's job and address). */
    private static final Set<String> TARGET_LABELS = Set.of("instance", "job");

    @TempDir Path temp;

    @Test
    void every_query_of_the_dashboard_names_metrics_and_labels_that_the_server_or_flink_exports() throws Exception {
        EmbeddedPostgresServer.Database db = SharedPostgres.createDatabase("dashboard");
        TestDatabase database = TestDatabase.on(db, SchemaMigrations::migrate);
        Map<String, String> env = new HashMap<>(Map.of(
                "DATA_DIR", temp.resolve("data").toString(),
                "DB_HOST", "localhost",
                "DB_PORT", Integer.toString(SharedPostgres.get().port()),
                "DB_NAME", db.name(),
                "DB_USER", db.user(),
                "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString(),
                "BATCH_SIZE", "8",
                "API_PORT", "0",
                "INDEX_REFRESH_MS", "200"));
        // Kafka for the server's uploads (the job here reads a watched folder, not the topic).
        env.put("KAFKA_BOOTSTRAP_SERVERS", SharedKafka.get().bootstrapServers());
        env.put("KAFKA_UPLOADS_TOPIC", SharedKafka.newTopic("dashboard-uploads", 1));
        List<CifarData.Sample> images = CifarData.sample("train", 2);
        Path folder = CifarData.writeFolder(temp.resolve("images"), CifarData.asFiles(images));

        // The job as the compose topology runs it, with the reporter settings of the compose file's
        // Flink. The reporter needs its port before it starts (a port 0 it bound could not be read
        // back here), so that one setting is the test's.
        int reporterPort = Ports.free();
        Map<String, String> reporter = composeReporterSettings();
        assertThat(reporter).containsEntry("metrics.reporter.prom.factory.class",
                PrometheusReporterFactory.class.getName());
        reporter.put("metrics.reporter.prom.port", Integer.toString(reporterPort));
        Configuration flink = Configuration.fromMap(reporter);
        flink.set(TaskManagerOptions.NUM_TASK_SLOTS, 2);
        StreamExecutionEnvironment flinkEnv = StreamExecutionEnvironment.createLocalEnvironment(flink);
        ImsrcConfig config = ImsrcConfig.from(Settings.of(env));
        IngestJobOptions options = IngestJob.options(config,
                        new DatabaseOptions(database.jdbcUrl(), database.user(), null), null,
                        List.of(BulkSourceSpec.parse(folder + "#cifar-10-jpg/train").watching()))
                .jobName("imsrc ingest")
                .parallelism(1)
                .checkpointIntervalMs(500)
                .watchIntervalMs(200)
                .checkpointDirectory(temp.resolve("checkpoints").toUri().toString())
                .build();
        IngestJob.attach(flinkEnv, options);
        JobClient job = flinkEnv.executeAsync(options.jobName());

        CapturedConsole console = new CapturedConsole();
        ServeCommand serve = new ServeCommand().withSettings(Settings.of(env));
        CompletableFuture<Integer> exit = null;
        try {
            Waiting.until(() -> database.count("SELECT count(*) FROM vectors") == images.size(),
                    "the watched folder's images to be stored");
            Waiting.until(() -> {
                String text = scrape(reporterPort);
                return text.contains("flink_taskmanager_job_task_operator_imagesEmbedded")
                        && text.matches("(?s).*flink_jobmanager_job_numberOfCompletedCheckpoints\\{[^}]*\\} [1-9].*");
            }, "Flink's reporter to show the job's operators and a completed checkpoint");
            String flinkText = scrape(reporterPort);

            exit = CompletableFuture.supplyAsync(() -> console.commandLine(serve).execute());
            CompletableFuture<Integer> exited = exit;
            Waiting.until(() -> serve.server() != null || exited.isDone(), "the server to start");
            assertThat(exit).as(console.out()).isNotDone();
            ApiClient api = new ApiClient(serve.server().port(), null);
            api.awaitReady(Waiting.DEFAULT_DEADLINE);
            Waiting.until(() -> api.indexVectors() == images.size(), "the server to index the job's vectors");
            // Requests on the routes the dashboard's panels select, so that their series exist.
            assertThat(api.postFile("/search", images.get(3).bytes()).status()).isEqualTo(200);
            assertThat(api.get("/images/" + ImageId.of(images.get(5).bytes()) + "/similar").status())
                    .isEqualTo(200);
            assertThat(api.get("/images/1/similar").status()).isEqualTo(404);
            // An image the job stored already: counted as an upload ("stored"), nothing published.
            assertThat(api.postMultipart("/upload", List.of(Part.file("file", "again.jpg", images.get(7).bytes())))
                    .status()).isBetween(200, 299);
            String serverText = api.get("/metrics").text();

            Map<String, Set<String>> exported = new TreeMap<>(DashboardQueries.exposition(serverText));
            DashboardQueries.exposition(flinkText).forEach((name, labels) ->
                    exported.computeIfAbsent(name, k -> new TreeSet<>()).addAll(labels));

            List<DashboardQueries.Query> queries = DashboardQueries.queries(DashboardQueries.DASHBOARD);
            assertThat(queries).as("the dashboard's queries").hasSizeGreaterThan(20);
            Set<String> named = new TreeSet<>();
            SoftAssertions softly = new SoftAssertions();
            for (DashboardQueries.Query query : queries) {
                DashboardQueries.Names names = DashboardQueries.names(query.expr());
                softly.assertThat(names.metrics()).as("panel \"%s\": %s names a metric", query.panel(), query.expr())
                        .isNotEmpty();
                Set<String> labels = new TreeSet<>(TARGET_LABELS);
                for (String metric : names.metrics()) {
                    softly.assertThat(exported).as("panel \"%s\": %s", query.panel(), query.expr())
                            .containsKey(metric);
                    labels.addAll(exported.getOrDefault(metric, Set.of()));
                }
                softly.assertThat(labels).as("panel \"%s\": the labels of %s", query.panel(), query.expr())
                        .containsAll(names.labels());
                named.addAll(names.metrics());
            }
            softly.assertAll();
            // Both sides, as the issue asks: the server and its JVM, and the job's operators and checkpoints.
            assertThat(named).anyMatch(n -> n.startsWith("imsrc_http_"))
                    .anyMatch(n -> n.startsWith("imsrc_index_"))
                    .anyMatch(n -> n.startsWith("jvm_"))
                    .anyMatch(n -> n.startsWith("process_"))
                    .contains("flink_taskmanager_job_task_operator_imagesEmbedded",
                            "flink_taskmanager_job_task_operator_batchSize",
                            "flink_taskmanager_job_task_operator_inferenceMillis",
                            "flink_taskmanager_job_task_operator_deadLetters",
                            "flink_taskmanager_job_task_operator_duplicates")
                    .anyMatch(n -> n.startsWith("flink_jobmanager_job_lastCheckpoint"))
                    .anyMatch(n -> n.contains("backPressured"));
        } finally {
            serve.stop();
            job.cancel().get();
        }
        assertThat(exit.get()).as(console.out()).isZero();
    }

    /** The {@code metrics.reporter.*} settings docker-compose.yml gives its Flink (FLINK_PROPERTIES). */
    @SuppressWarnings("unchecked")
    private static Map<String, String> composeReporterSettings() throws Exception {
        Load yaml = new Load(LoadSettings.builder().build());
        Map<String, Object> compose = (Map<String, Object>) yaml.loadFromString(
                Files.readString(Path.of("..").toAbsolutePath().normalize().resolve("docker-compose.yml")));
        Map<String, Object> jobManager = (Map<String, Object>) ((Map<String, Object>) compose.get("services"))
                .get("jobmanager");
        String properties = ((Map<String, Object>) jobManager.get("environment")).get("FLINK_PROPERTIES").toString();
        Map<String, String> reporter = new TreeMap<>();
        ((Map<String, Object>) yaml.loadFromString(properties)).forEach((key, value) -> {
            if (key.startsWith("metrics.reporter.")) {
                reporter.put(key, value.toString());
            }
        });
        return reporter;
    }

    /** The text Flink's reporter answers, as Prometheus scrapes it; empty while nothing listens yet. */
    private static String scrape(int port) throws Exception {
        HttpResponse<String> response;
        try {
            response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            return "";
        }
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }
}
