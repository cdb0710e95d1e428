package io.imsrc.ingest;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.ImsrcConfig.FlinkConfig;
import io.imsrc.common.config.ImsrcConfig.ModelConfig;
import io.imsrc.common.config.ImsrcConfig.SearchConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.ingest.embed.EmbedSettings;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.upload.UploadSourceOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the ingest job is built from: the configuration's records as {@link ImsrcConfig#from}
 * read and checked them, plus what the entry point resolved (the database, the model, the sources,
 * the Kafka cluster). Immutable; build with {@link #builder}. The entry points ({@link IngestJob},
 * the launcher) fill it from the configuration; nothing below reads the environment.
 *
 * <p>The configured values are not checked again here, and a new setting belongs in its config
 * record and reader: the job reads it from {@link #flink}, {@link #images} or {@link #search}.
 *
 * @param jobName the job's name in the Flink dashboard
 * @param database where images, vectors and prototypes go
 * @param embedding the model and its batching (BATCH_SIZE, BATCH_MAX_DELAY_MS)
 * @param bulkSources folders and archives to ingest (may be empty)
 * @param uploads the Kafka uploads topic, or {@code null} to ingest bulk sources only
 * @param search MAX_UPLOAD_SIZE: larger files and uploads are dead letters
 * @param images MAX_IMAGE_PIXELS: larger images are dead letters
 * @param flink FLINK_PARALLELISM (0 leaves it to the environment, a cluster's default),
 *     CHECKPOINT_INTERVAL_MS (0 turns checkpointing off) and FLINK_STATE_BACKEND ({@code null}
 *     leaves it to the environment)
 * @param cacheDir where downloaded archives are kept (DATA_DIR/cache)
 * @param watchIntervalMs how often a watched folder is scanned
 * @param flushIntervalMs how often prototypes, dead letters and upload states are written at most
 * @param checkpointDirectory where checkpoints go (a file: URI or another Flink file system), or
 *     {@code null} to leave it to the cluster's configuration. Needed in local mode: without it
 *     Flink keeps checkpoints in the JobManager's memory, which refuses state over 5 MB (the
 *     admission state of about 60,000 images)
 */
public record IngestJobOptions(
        String jobName,
        DatabaseOptions database,
        EmbedSettings embedding,
        List<BulkSourceSpec> bulkSources,
        UploadSourceOptions uploads,
        SearchConfig search,
        ModelConfig images,
        FlinkConfig flink,
        Path cacheDir,
        long watchIntervalMs,
        long flushIntervalMs,
        String checkpointDirectory) {

    public IngestJobOptions {
        Objects.requireNonNull(jobName, "jobName");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(embedding, "embedding");
        bulkSources = List.copyOf(bulkSources);
        if (bulkSources.isEmpty() && uploads == null) {
            throw new IllegalArgumentException("nothing to ingest: give a bulk source, the uploads topic, or both");
        }
        Objects.requireNonNull(search, "search");
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(flink, "flink");
        Objects.requireNonNull(cacheDir, "cacheDir");
        if (watchIntervalMs < 1 || flushIntervalMs < 0) {
            throw new IllegalArgumentException("the watch interval must be positive and the flush interval not negative");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The job's parallelism, or 0 to leave it to the environment. */
    public int parallelism() {
        return flink.parallelism();
    }

    /**
     * Builds {@link IngestJobOptions}. The configured values start as the configuration's defaults
     * (with one subtask) until {@link #config} gives the real configuration; the overrides after it
     * are for the entry point's own choices (the launcher's local parallelism) and tests.
     */
    public static final class Builder {
        private String jobName = "imsrc ingest";
        private DatabaseOptions database;
        private EmbedSettings embedding;
        private final List<BulkSourceSpec> bulkSources = new ArrayList<>();
        private UploadSourceOptions uploads;
        private SearchConfig search;
        private ModelConfig images;
        private FlinkConfig flink;
        private Path cacheDir;
        private long watchIntervalMs = 1000;
        private long flushIntervalMs = 200;
        private String checkpointDirectory;

        /** The configuration's defaults, but one subtask: what a test's job on a MiniCluster wants. */
        private Builder() {
            config(ImsrcConfig.from(Settings.of(Map.of())));
            parallelism(1);
        }

        /** The configured values: MAX_UPLOAD_SIZE, MAX_IMAGE_PIXELS, the Flink settings, DATA_DIR/cache. */
        public Builder config(ImsrcConfig config) {
            this.search = config.search();
            this.images = config.model();
            this.flink = config.flink();
            this.cacheDir = config.dataDir().resolve("cache").toAbsolutePath();
            return this;
        }

        public Builder jobName(String value) {
            this.jobName = value;
            return this;
        }

        public Builder database(DatabaseOptions value) {
            this.database = value;
            return this;
        }

        public Builder embedding(EmbedSettings value) {
            this.embedding = value;
            return this;
        }

        public Builder bulkSource(BulkSourceSpec value) {
            this.bulkSources.add(Objects.requireNonNull(value, "bulk source"));
            return this;
        }

        public Builder bulkSources(List<BulkSourceSpec> values) {
            values.forEach(this::bulkSource);
            return this;
        }

        public Builder uploads(UploadSourceOptions value) {
            this.uploads = value;
            return this;
        }

        /** Overrides MAX_UPLOAD_SIZE. */
        public Builder maxImageBytes(long value) {
            this.search = new SearchConfig(search.useProtoFiltering(), search.defaultLimit(), value, search.searchThreads());
            return this;
        }

        /** Overrides FLINK_PARALLELISM, as the launcher does with a local Flink's cores. */
        public Builder parallelism(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("parallelism is 0 (Flink's default) or more, got " + value);
            }
            this.flink = flink.withParallelism(value);
            return this;
        }

        /** Overrides CHECKPOINT_INTERVAL_MS. */
        public Builder checkpointIntervalMs(long value) {
            if (value < 0) {
                throw new IllegalArgumentException("the checkpoint interval is 0 (off) or more, got " + value);
            }
            this.flink = flink.withCheckpointIntervalMs(value);
            return this;
        }

        /**
         * Overrides FLINK_STATE_BACKEND, as the launcher does with its local default; {@code null}
         * leaves the state backend to the cluster's configuration.
         */
        public Builder stateBackend(FlinkConfig.StateBackend value) {
            this.flink = flink.withStateBackend(value);
            return this;
        }

        public Builder cacheDir(Path value) {
            this.cacheDir = value;
            return this;
        }

        public Builder watchIntervalMs(long value) {
            this.watchIntervalMs = value;
            return this;
        }

        public Builder flushIntervalMs(long value) {
            this.flushIntervalMs = value;
            return this;
        }

        public Builder checkpointDirectory(String value) {
            this.checkpointDirectory = value;
            return this;
        }

        public IngestJobOptions build() {
            return new IngestJobOptions(jobName, database, embedding, bulkSources, uploads, search, images, flink,
                    cacheDir, watchIntervalMs, flushIntervalMs, checkpointDirectory);
        }
    }
}
