package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster mode for real: a standalone Flink 2.0 cluster (a JobManager and a TaskManager, each a
 * process of its own whose class path is Flink and, as its lib/, DJL from target/flink-lib), and
 * the job jar (target/*-flink-job.jar) submitted with Flink's own command-line client, as {@code
 * flink run} does. Nothing of imsrc is on the cluster's class path: the jar must bring what the
 * job needs, and DJL must work from lib/.
 */
class ClusterModeITCase {

    /**
     * The JVM options Flink's distribution starts every process with (env.java.default-opts.all in
     * its config.yaml): Flink reflects into these JDK packages on Java 17.
     */
    private static final List<String> FLINK_JAVA_OPTS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private final List<Process> processes = new ArrayList<>();
    /** The processes' logs stay in target/ for a failed run to be read. */
    private final Path logs = Path.of("target", "cluster-mode-it").toAbsolutePath();

    @TempDir Path temp;

    @AfterEach
    void stopCluster() throws Exception {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * Flink's class path: this module's provided dependencies (target/flink-classpath.txt), plus the
     * libraries Flink's distribution carries that the job's own dependencies shadow in Maven's
     * scopes, plus Log4j, as in a distribution's lib/.
     */
    private static List<String> flinkClasspath() throws IOException {
        List<String> entries = new ArrayList<>(List.of(
                Files.readString(Path.of("target/flink-classpath.txt")).trim().split(File.pathSeparator)));
        List<String> alsoInFlinkDist = List.of("commons-lang3-", "commons-compress-", "snappy-java-", "lz4-java-",
                "commons-io-", "log4j-api-", "log4j-core-", "log4j-slf4j2-impl-");
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (alsoInFlinkDist.stream().anyMatch(name::startsWith) && !entries.contains(entry)) {
                entries.add(entry);
            }
        }
        return entries;
    }

    private static List<String> lib() throws IOException {
        try (Stream<Path> jars = Files.list(Path.of("target/flink-lib"))) {
            return jars.map(p -> p.toAbsolutePath().toString()).toList();
        }
    }

    private static Path jobJar() throws IOException {
        try (Stream<Path> jars = Files.list(Path.of("target"))) {
            return jars.filter(p -> p.getFileName().toString().endsWith("-flink-job.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no *-flink-job.jar in target/: mvn package builds it"))
                    .toAbsolutePath();
        }
    }

    private Process start(String name, List<String> classpath, Map<String, String> env, String... mainAndArgs)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-Dlog4j.configurationFile=" + temp.resolve("conf/log4j.properties")));
        command.addAll(FLINK_JAVA_OPTS);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, classpath)));
        command.addAll(List.of(mainAndArgs));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    @Test
    void the_job_jar_runs_on_a_standalone_cluster_submitted_by_flinks_client() throws Exception {
        Files.createDirectories(logs);
        Path conf = Files.createDirectories(temp.resolve("conf"));
        // The cluster runs in processes of its own, configured by file: the ports are named up front.
        int rpcPort = Ports.free();
        int restPort = Ports.free();
        Files.writeString(conf.resolve("config.yaml"), String.join("\n",
                "jobmanager.rpc.address: localhost",
                "jobmanager.rpc.port: " + rpcPort,
                "jobmanager.bind-host: localhost",
                "rest.address: localhost",
                "rest.bind-address: localhost",
                "rest.port: " + restPort,
                "taskmanager.host: localhost",
                "taskmanager.bind-host: localhost",
                "taskmanager.numberOfTaskSlots: 1",
                "jobmanager.memory.process.size: 1024m",
                "taskmanager.memory.process.size: 2048m",
                // libtorch's memory is native, outside what Flink budgets by default.
                "taskmanager.memory.task.off-heap.size: 512m",
                "parallelism.default: 1",
                "execution.checkpointing.storage: filesystem",
                "execution.checkpointing.dir: " + temp.resolve("checkpoints").toUri(),
                "classloader.parent-first-patterns.additional: ai.djl.;com.sun.jna.",
                ""));
        Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
                "rootLogger.level = INFO", "rootLogger.appenderRef.out.ref = out",
                "appender.out.type = Console", "appender.out.name = out",
                "appender.out.layout.type = PatternLayout", "appender.out.layout.pattern = %d %-5p %c{1} - %m%n", ""));
        List<String> cluster = new ArrayList<>(flinkClasspath());
        cluster.addAll(lib());
        start("jobmanager", cluster, Map.of(), "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                "--configDir", conf.toString());
        // What flink's taskmanager.sh works out with BashJavaUtils: the memory and CPU budget, as -D options.
        Configuration tmConfig = new Configuration();
        tmConfig.setString("taskmanager.memory.process.size", "2048m");
        tmConfig.setString("taskmanager.memory.task.off-heap.size", "512m");
        List<String> taskManager = new ArrayList<>(List.of("org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                "--configDir", conf.toString()));
        taskManager.addAll(List.of(TaskExecutorProcessUtils.generateDynamicConfigsStr(
                TaskExecutorProcessUtils.processSpecFromConfig(tmConfig)).trim().split(" ")));
        start("taskmanager", cluster, Map.of(), taskManager.toArray(String[]::new));
        HttpClient http = HttpClient.newHttpClient();
        Waiting.until(() -> {
            try {
                String overview = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + "/overview"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                return overview.contains("\"taskmanagers\":1");
            } catch (IOException e) {
                return false;
            }
        }, "the cluster to come up with its task manager", Duration.ofSeconds(120));

        Path folder = CifarData.writeFolder(temp.resolve("images"), CifarData.asFiles(CifarData.sample("train", 2)));
        TestDatabase db = TestDatabase.create("cluster", SchemaMigrations::migrate);
        var server = SharedPostgres.get();
        Process client = start("client", flinkClasspath(), Map.of(
                        "FLINK_CONF_DIR", conf.toString(),
                        "DB_HOST", "localhost",
                        "DB_PORT", Integer.toString(server.port()),
                        "DB_NAME", db.toString(),
                        "DB_USER", server.user(),
                        "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString(),
                        "DATA_DIR", temp.resolve("data").toString(),
                        "BATCH_SIZE", "16"),
                "org.apache.flink.client.cli.CliFrontend", "run", "-c", "io.imsrc.ingest.IngestJob", jobJar().toString(),
                "--no-uploads", "--source", folder + "#cifar-10-jpg/train");

        assertThat(client.waitFor(180, TimeUnit.SECONDS)).as("flink run finishes").isTrue();
        assertThat(client.exitValue()).as("flink run's exit code; its output is in %s", logs.resolve("client.log"))
                .isZero();
        IngestFixtures.assertStored(db, 20, 20);
        assertThat(Files.readString(logs.resolve("taskmanager.log"))).contains("Loaded resnet20-cifar10");
    }
}
