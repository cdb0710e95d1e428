package io.imsrc.ingest;

import io.imsrc.ingest.embed.EmbedSettings;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.upload.UploadSourceOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything the ingest job is built from. Immutable; build with {@link #builder}. The entry points
 * ({@link IngestJob}, the launcher) fill it from the configuration; nothing below reads the
 * environment.
 *
 * @param jobName the job's name in the Flink dashboard
 * @param database where images, vectors and prototypes go
 * @param embedding the model and its batching
 * @param bulkSources folders and archives to ingest (may be empty)
 * @param uploads the Kafka uploads topic, or {@code null} to ingest bulk sources only
 * @param maxImageBytes larger files and uploads are dead letters (MAX_UPLOAD_SIZE)
 * @param maxImagePixels larger images are dead letters (MAX_IMAGE_PIXELS)
 * @param parallelism the job's parallelism (FLINK_PARALLELISM), or 0 to leave it to the environment
 *     (a cluster's default parallelism)
 * @param checkpointIntervalMs 0 turns checkpointing off (CHECKPOINT_INTERVAL_MS)
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
        long maxImageBytes,
        long maxImagePixels,
        int parallelism,
        long checkpointIntervalMs,
        Path cacheDir,
        long watchIntervalMs,
        long flushIntervalMs,
        String checkpointDirectory) {

    public IngestJobOptions {
        Objects.requireNonNull(jobName, "jobName");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(embedding, "embedding");
        bulkSources = List.copyOf(bulkSources);
        Objects.requireNonNull(cacheDir, "cacheDir");
        if (bulkSources.isEmpty() && uploads == null) {
            throw new IllegalArgumentException("nothing to ingest: give a bulk source, the uploads topic, or both");
        }
        if (maxImageBytes < 1 || maxImagePixels < 1) {
            throw new IllegalArgumentException("the image size limits must be positive");
        }
        if (parallelism < 0) {
            throw new IllegalArgumentException("parallelism must be 0 (the environment's) or positive, got " + parallelism);
        }
        if (checkpointIntervalMs < 0 || watchIntervalMs < 1 || flushIntervalMs < 0) {
            throw new IllegalArgumentException("intervals must not be negative (the watch interval positive)");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link IngestJobOptions}; arguments are checked in {@link #build()}. */
    public static final class Builder {
        private String jobName = "imsrc ingest";
        private DatabaseOptions database;
        private EmbedSettings embedding;
        private final List<BulkSourceSpec> bulkSources = new ArrayList<>();
        private UploadSourceOptions uploads;
        private long maxImageBytes = 10_485_760L;
        private long maxImagePixels = 40_000_000L;
        private int parallelism = 1;
        private long checkpointIntervalMs = 10_000;
        private Path cacheDir = Path.of("data", "cache");
        private long watchIntervalMs = 1000;
        private long flushIntervalMs = 200;
        private String checkpointDirectory;

        private Builder() {}

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

        public Builder maxImageBytes(long value) {
            this.maxImageBytes = value;
            return this;
        }

        public Builder maxImagePixels(long value) {
            this.maxImagePixels = value;
            return this;
        }

        public Builder parallelism(int value) {
            this.parallelism = value;
            return this;
        }

        public Builder checkpointIntervalMs(long value) {
            this.checkpointIntervalMs = value;
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
            return new IngestJobOptions(jobName, database, embedding, bulkSources, uploads, maxImageBytes, maxImagePixels,
                    parallelism, checkpointIntervalMs, cacheDir, watchIntervalMs, flushIntervalMs, checkpointDirectory);
        }
    }
}
