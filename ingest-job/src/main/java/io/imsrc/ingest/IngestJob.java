package io.imsrc.ingest;

import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.ImsrcConfig.FlinkConfig.StateBackend;
import io.imsrc.ingest.embed.EmbedSettings;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.upload.UploadSourceOptions;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The ingest job's entry point on a Flink cluster: {@code flink run -c io.imsrc.ingest.IngestJob
 * imsrc-ingest-job.jar [--source ...]}. The database and Kafka come from DB_HOST... and
 * KAFKA_BOOTSTRAP_SERVERS in the environment of the {@code flink run} process; the embedded
 * services are the launcher's, for local mode.
 *
 * <p>Also holds what both entry points share: the options from the configuration ({@link
 * #options}) and the environment settings ({@link #configure}).
 */
@Command(name = "imsrc-ingest-job", mixinStandardHelpOptions = true,
        description = "Submits the imsrc ingest job to the Flink cluster this runs in (flink run).")
public final class IngestJob implements Callable<Integer> {

    @Mixin
    private IngestCommandOptions ingest = new IngestCommandOptions();

    public static void main(String[] args) {
        System.exit(new CommandLine(new IngestJob()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        ImsrcConfig config;
        try {
            config = ImsrcConfig.fromEnvironment();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        if (config.database().embedded() || (ingest.uploads() && config.kafka().embedded())) {
            System.err.println("On a cluster the job needs a real PostgreSQL and Kafka: set DB_HOST (and DB_PORT, DB_NAME, "
                    + "DB_USER, DB_PASSWORD) and KAFKA_BOOTSTRAP_SERVERS, or pass --no-uploads. The embedded services are "
                    + "the launcher's (bin/imsrc).");
            return 2;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IngestJobOptions options;
        try {
            options = options(config, DatabaseOptions.of(config.database()),
                    ingest.uploads() ? config.kafka().bootstrapServers() : null, ingest.bulkSources(config)).build();
            attach(env, options);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("imsrc-ingest-job: " + e.getMessage());
            return 2;
        }
        env.execute(options.jobName());
        return 0;
    }

    /**
     * The job's options from the configuration, with the services' addresses the caller knows, for
     * the caller to complete and build. FLINK_PARALLELISM=auto leaves the parallelism to the
     * environment (a cluster's default); local mode sets it to the cores. Resolves the model at the
     * client (a URL is downloaded into DATA_DIR/models) to compute its id.
     *
     * @param kafkaBootstrapServers {@code null} for a job without the uploads topic
     * @throws IOException when the model file cannot be found or downloaded
     */
    public static IngestJobOptions.Builder options(
            ImsrcConfig config, DatabaseOptions database, String kafkaBootstrapServers, List<BulkSourceSpec> bulkSources)
            throws IOException {
        ConfiguredModel model = ConfiguredModel.resolve(config);
        EmbedSettings embedding = new EmbedSettings(model.description(), model.modelId().value(),
                config.model().device(), config.batch(), EmbedSettings.AUTO_THREADS, model.cacheDir().toString());
        return IngestJobOptions.builder()
                .config(config)
                .database(database)
                .embedding(embedding)
                .bulkSources(bulkSources)
                .uploads(kafkaBootstrapServers == null ? null : new UploadSourceOptions(
                        kafkaBootstrapServers, config.kafka().uploadsTopic(), UploadSourceOptions.DEFAULT_GROUP_ID));
    }

    /**
     * Configures {@code env} for the job ({@link #configure}) and attaches its dataflow: the one path
     * from options to a runnable job, for this entry point and the launcher's local and cluster modes.
     *
     * @return what the bulk sources will read
     */
    public static IngestTopology.Summary attach(StreamExecutionEnvironment env, IngestJobOptions options)
            throws IOException {
        configure(env, options);
        return IngestTopology.attach(env, options);
    }

    /**
     * Applies the job's parallelism, checkpointing and state backend to {@code env}, and refuses
     * Kryo: every record type is a POJO or a record Flink serializes itself, and a silent fallback to
     * Kryo would be slow.
     *
     * <p>The state backend is set only when FLINK_STATE_BACKEND is given (or the launcher chose its
     * local default), and then through Flink's own keys, {@code state.backend.type} and, for RocksDB,
     * {@code execution.checkpointing.incremental}: job settings that win over the cluster's. Without
     * it, a cluster's own configuration (flink-conf / config.yaml) decides, as for any Flink job.
     */
    public static void configure(StreamExecutionEnvironment env, IngestJobOptions options) {
        Configuration settings = new Configuration();
        settings.set(PipelineOptions.GENERIC_TYPES, false);
        StateBackend backend = options.flink().stateBackend();
        if (backend != null) {
            settings.set(StateBackendOptions.STATE_BACKEND, backend.configValue());
            if (backend == StateBackend.ROCKSDB) {
                // A checkpoint uploads only the RocksDB files written since the last one, not the
                // whole dedup state of every stored image.
                settings.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
            }
        }
        env.configure(settings);
        if (options.parallelism() > 0) {
            env.setParallelism(options.parallelism());
        }
        if (options.flink().checkpointIntervalMs() > 0) {
            env.enableCheckpointing(options.flink().checkpointIntervalMs());
        }
        if (options.checkpointDirectory() != null) {
            Configuration storage = new Configuration();
            storage.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            storage.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, options.checkpointDirectory());
            env.configure(storage);
        }
    }
}
