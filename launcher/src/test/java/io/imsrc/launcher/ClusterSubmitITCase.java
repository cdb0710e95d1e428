package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.launcher.job.FlinkRest;
import io.imsrc.common.config.Settings;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every service pointed at an existing one: PostgreSQL and Kafka of their own (DB_HOST...,
 * KAFKA_BOOTSTRAP_SERVERS) and a Flink cluster reached only through its REST address
 * (FLINK_REST_URL), to which the launcher submits the job with the job jar the build made. Nothing
 * embedded is started. A second submitter finds the job running and the source ingested and
 * submits nothing; {@code start} serves beside the cluster's job and leaves it running when stopped.
 */
class ClusterSubmitITCase {

    private static final int PER_CLASS = 3;
    private static final int IMAGES = 10 * PER_CLASS;

    @TempDir Path temp;

    private MiniCluster cluster;
    private String restUrl;

    @BeforeEach
    void startCluster() throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestOptions.ADDRESS, "localhost");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_PORT, "0");
        // This cluster lives in the test's JVM, whose class path already holds what the job jar
        // brings (Kafka's clients, for the broker): parent-first keeps one copy of each class. The
        // jar on a cluster of its own, child-first, is ClusterModeITCase's (ingest-job).
        conf.set(CoreOptions.CLASSLOADER_RESOLVE_ORDER, "parent-first");
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(4).build());
        cluster.start();
        URI rest = cluster.getRestAddress().get();
        restUrl = "http://localhost:" + rest.getPort();
    }

    @AfterEach
    void stopCluster() throws Exception {
        if (cluster != null) {
            // The job outlives its submitter by design: cancel it so the cluster stops quietly.
            for (var job : cluster.listJobs().get()) {
                if (!job.getJobState().isGloballyTerminalState()) {
                    cluster.cancelJob(job.getJobId()).get();
                }
            }
            cluster.close();
        }
    }

    @Test
    void the_job_is_submitted_to_the_cluster_and_nothing_embedded_starts() throws Exception {
        EmbeddedPostgresServer.Database db = SharedPostgres.createDatabase("cluster");
        Path subset = CifarData.writeTar(temp.resolve("subset.tar"),
                CifarData.asFiles(CifarData.sample("train", PER_CLASS)), false);
        Path data = temp.resolve("data");
        Map<String, String> env = new HashMap<>(Map.of(
                "DATA_DIR", data.toString(),
                "DB_HOST", "localhost",
                "DB_PORT", Integer.toString(SharedPostgres.get().port()),
                "DB_NAME", db.name(),
                "DB_USER", db.user(),
                "KAFKA_BOOTSTRAP_SERVERS", SharedKafka.get().bootstrapServers(),
                "KAFKA_UPLOADS_TOPIC", SharedKafka.newTopic("cluster-uploads", 1),
                "MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString(),
                "CIFAR10_SOURCE", subset + "#cifar-10-jpg/train",
                "FLINK_REST_URL", restUrl));
        env.put("MODEL_NAME", "resnet20-cifar10");
        env.put("CHECKPOINT_INTERVAL_MS", "500");

        CapturedConsole console = new CapturedConsole();
        int exit = console.commandLine(new IngestCommand().withSettings(Settings.of(env))).execute("--skip-ingested");
        String out = console.out();
        assertThat(exit).as(out).isZero();
        assertThat(out).contains("running on the cluster").contains("Flink dashboard  " + restUrl)
                .contains("read to the end (" + IMAGES + " images)")
                .contains(IMAGES + " new images stored; the job keeps running on the cluster")
                .doesNotContain("(embedded)");
        assertThat(data.resolve("postgres")).as("no embedded PostgreSQL").doesNotExist();
        assertThat(data.resolve("kafka")).as("no embedded Kafka").doesNotExist();
        assertThat(count(db, "SELECT count(*) FROM vectors")).isEqualTo(IMAGES);

        FlinkRest rest = new FlinkRest(restUrl);
        JsonNode jobs = rest.get("/jobs/overview").get("jobs");
        assertThat(jobs).hasSize(1);
        assertThat(jobs.get(0).get("state").asText()).as("the job outlives its submitter").isEqualTo("RUNNING");
        String jobId = jobs.get(0).get("jid").asText();

        // A second submitter (compose's one-shot run again): nothing to read, nothing submitted.
        CapturedConsole second = new CapturedConsole();
        assertThat(second.commandLine(new IngestCommand().withSettings(Settings.of(env))).execute("--skip-ingested"))
                .isZero();
        assertThat(second.out()).contains("not reading it again")
                .contains("already runs on " + restUrl + " (" + jobId + ")");
        assertThat(rest.get("/jobs/overview").get("jobs")).hasSize(1);

        // start beside the cluster's job: serves, follows the job, and leaves it running at Ctrl-C.
        env.put("API_PORT", "0");
        env.put("FAISS_INDEX_PATH", temp.resolve("index.bin").toString());
        CapturedConsole startConsole = new CapturedConsole();
        StartCommand start = new StartCommand().withSettings(Settings.of(env));
        CompletableFuture<Integer> started = CompletableFuture.supplyAsync(() -> startConsole.commandLine(start).execute());
        try {
            Waiting.until(() -> start.running() != null || started.isDone(), "start to serve");
            assertThat(started).as(startConsole.out()).isNotDone();
            ApiClient api = new ApiClient(start.running().server().port(), null);
            Waiting.until(() -> api.get("/health/ready").status() == 200, "the index");
            byte[] query = CifarData.sample("train", 1).get(8).bytes();
            ApiClient.Response search = api.postMultipart("/search?limit=3", List.of(Part.file("file", "q.jpg", query)));
            assertThat(search.status()).as(search.toString()).isEqualTo(200);
            assertThat(search.json().at("/results/0/similarity").asDouble()).isGreaterThan(0.999);
        } finally {
            start.stop();
        }
        assertThat(started.get()).isZero();
        assertThat(startConsole.out()).contains("already runs on")
                .contains("stopped; the job keeps running on the cluster");
        assertThat(rest.get("/jobs/" + jobId).get("state").asText()).isEqualTo("RUNNING");
    }

    private static long count(EmbeddedPostgresServer.Database db, String sql) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
