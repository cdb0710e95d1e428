package io.imsrc.ingest.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.ImsrcConfig.BatchConfig;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.IngestJob;
import io.imsrc.ingest.IngestJobOptions;
import io.imsrc.ingest.IngestTopology;
import io.imsrc.ingest.embed.EmbedSettings;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The real model and the common job settings of the ingest tests. */
public final class IngestFixtures {

    private static String resnet20Id;

    private IngestFixtures() {}

    public static ModelDescription resnet20() {
        return ModelDescription.RESNET20_CIFAR10.withModel(SharedFiles.model("resnet20-cifar10.pt").toString());
    }

    public static synchronized String resnet20ModelId() throws IOException {
        if (resnet20Id == null) {
            resnet20Id = ModelId.forFile("resnet20-cifar10", SharedFiles.model("resnet20-cifar10.pt")).value();
        }
        return resnet20Id;
    }

    public static EmbedSettings embedding(int batchSize, long maxDelayMs, Path cacheDir) throws IOException {
        return new EmbedSettings(resnet20(), resnet20ModelId(), Device.CPU, new BatchConfig(batchSize, maxDelayMs), 0,
                cacheDir.resolve("models").toString());
    }

    /** Options for a test: small batches, frequent checkpoints, parallelism 1. */
    public static IngestJobOptions.Builder options(TestDatabase database, Path temp) throws IOException {
        return IngestJobOptions.builder()
                .jobName("ingest test")
                .database(new DatabaseOptions(database.jdbcUrl(), database.user(), null))
                .embedding(embedding(32, 20, temp))
                .checkpointIntervalMs(500)
                .cacheDir(temp.resolve("cache"))
                .watchIntervalMs(200)
                .flushIntervalMs(50)
                .checkpointDirectory(temp.resolve("checkpoints").toUri().toString());
    }

    /** The environment of the test's MiniCluster, configured like the real job, restarting fast. */
    public static StreamExecutionEnvironment environment(IngestJobOptions options) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IngestJob.configure(env, options);
        Configuration restart = new Configuration();
        restart.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, java.time.Duration.ofMillis(200));
        env.configure(restart);
        return env;
    }

    /** Runs a bounded ingest to its end on the MiniCluster. */
    public static IngestTopology.Summary runToEnd(IngestJobOptions options) throws Exception {
        return runToEnd(options, UnaryOperator.identity());
    }

    public static IngestTopology.Summary runToEnd(
            IngestJobOptions options, UnaryOperator<DataStream<RawImage>> beforeAdmission) throws Exception {
        StreamExecutionEnvironment env = environment(options);
        IngestTopology.Summary summary = IngestTopology.attach(env, options, beforeAdmission);
        env.execute(options.jobName());
        return summary;
    }

    /** Runs a bounded ingest of {@code source} (a bulk source as the command line names it) to its end. */
    public static IngestTopology.Summary ingest(TestDatabase database, Path temp, String source) throws Exception {
        return runToEnd(options(database, temp).bulkSource(BulkSourceSpec.parse(source)).build());
    }

    /** What an ingest that has finished must have stored: so many images and vectors, and exact prototypes. */
    public static void assertStored(TestDatabase database, long images, long vectors) throws Exception {
        assertThat(database.count("SELECT count(*) FROM images")).as("images").isEqualTo(images);
        assertThat(database.count("SELECT count(*) FROM vectors")).as("vectors").isEqualTo(vectors);
        assertPrototypesAreExactMeans(database);
    }

    /** Starts an unbounded ingest (uploads, watched folders); the caller cancels it. */
    public static JobClient start(IngestJobOptions options) throws Exception {
        StreamExecutionEnvironment env = environment(options);
        IngestTopology.attach(env, options);
        return env.executeAsync(options.jobName());
    }

    /** Whether the stored prototypes of the test model are the exact means already (for waiting on a running job). */
    public static boolean prototypesAreExactMeans(TestDatabase database) throws Exception {
        return database.prototypesAreExactMeans(resnet20ModelId());
    }

    /** Every stored prototype of the test model equals the mean of its category's stored vectors. */
    public static void assertPrototypesAreExactMeans(TestDatabase database) throws Exception {
        database.assertPrototypesAreExactMeans(resnet20ModelId());
    }
}
