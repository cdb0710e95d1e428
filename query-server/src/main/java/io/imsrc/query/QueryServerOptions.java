package io.imsrc.query;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.ImsrcConfig.DatabaseTimeouts;
import io.imsrc.common.embed.Device;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.query.upload.QueuedUploadSweeper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything the query server needs, typed and checked. Build with {@link #builder()}, or {@link
 * #from(ImsrcConfig, ConfiguredModel)} and the services' addresses, which only the entry point
 * knows once it has started or found them.
 *
 * @param jdbcUrl PostgreSQL
 * @param dbUser the database user
 * @param dbPassword {@code null} for none
 * @param dbTimeouts DB_CONNECT_TIMEOUT_MS, DB_SOCKET_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS
 * @param kafkaBootstrapServers the Kafka cluster uploads are published to; {@code null} for a
 *     server without uploads (POST /upload answers 503)
 * @param uploadsTopic KAFKA_UPLOADS_TOPIC
 * @param model the model queries are embedded with; its id picks the vectors to search
 * @param device DEVICE
 * @param indexType FAISS_INDEX_TYPE
 * @param indexPath FAISS_INDEX_PATH
 * @param refreshInterval INDEX_REFRESH_MS: the index manager's polling when no notification comes
 * @param defaultLimit DEFAULT_SEARCH_LIMIT
 * @param usePrototypes USE_PROTOTYPE_FILTERING: the default of use_prototypes
 * @param maxUploadSize MAX_UPLOAD_SIZE: the most bytes one image may have, in an upload or a query
 * @param maxImagePixels MAX_IMAGE_PIXELS: the most pixels any size an image declares may have
 * @param decodeBudgetPixels DECODE_BUDGET_PIXELS: the pixels this process decodes at once (the
 *     process's shared {@link io.imsrc.common.image.DecodeBudget} takes this capacity)
 * @param decodeWait how long a request waits for room in the decode budget before it is answered
 *     503
 * @param maxFilesPerUpload the most images one POST /upload may carry
 * @param host API_HOST
 * @param port API_PORT; 0 for any free port
 * @param apiToken API_TOKEN; {@code null} leaves write and admin endpoints open
 * @param searchRequiresToken SEARCH_REQUIRES_TOKEN: read endpoints require the token too
 * @param embedThreads QUERY_EMBED_THREADS: model threads; 0 for the server's choice
 * @param queryBatchSize QUERY_BATCH_SIZE: the most queries one forward pass embeds together; 1
 *     turns request coalescing off
 * @param requestTimeout how long a request waits for the model or Kafka before it is answered 503
 * @param requestBodyTimeout REQUEST_BODY_TIMEOUT_MS: how long a request body may take to arrive
 *     before it is answered 408
 * @param allowedOrigins API_ALLOWED_ORIGINS: browser origins whose pages may send writes
 * @param flinkDashboardUrl the Flink dashboard the web page links to; {@code null} for none
 * @param uploadDeadlines UPLOAD_PUBLISH_DEADLINE_MS and UPLOAD_INGEST_DEADLINE_MS: when a queued
 *     upload is given up
 */
public record QueryServerOptions(
        String jdbcUrl,
        String dbUser,
        String dbPassword,
        DatabaseTimeouts dbTimeouts,
        String kafkaBootstrapServers,
        String uploadsTopic,
        ConfiguredModel model,
        Device device,
        IndexType indexType,
        Path indexPath,
        Duration refreshInterval,
        int defaultLimit,
        boolean usePrototypes,
        long maxUploadSize,
        long maxImagePixels,
        long decodeBudgetPixels,
        Duration decodeWait,
        int maxFilesPerUpload,
        String host,
        int port,
        String apiToken,
        boolean searchRequiresToken,
        int embedThreads,
        int queryBatchSize,
        Duration requestTimeout,
        Duration requestBodyTimeout,
        List<String> allowedOrigins,
        String flinkDashboardUrl,
        QueuedUploadSweeper.Deadlines uploadDeadlines) {

    public static final int DEFAULT_MAX_FILES_PER_UPLOAD = 100;

    public QueryServerOptions {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(dbUser, "dbUser");
        Objects.requireNonNull(dbTimeouts, "dbTimeouts");
        Objects.requireNonNull(uploadsTopic, "uploadsTopic");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(indexType, "indexType");
        Objects.requireNonNull(indexPath, "indexPath");
        Objects.requireNonNull(refreshInterval, "refreshInterval");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(uploadDeadlines, "uploadDeadlines");
        Objects.requireNonNull(decodeWait, "decodeWait");
        Objects.requireNonNull(requestBodyTimeout, "requestBodyTimeout");
        allowedOrigins = List.copyOf(allowedOrigins);
        check(defaultLimit >= 1 && defaultLimit <= 50, "defaultLimit must be 1-50, got " + defaultLimit);
        check(maxUploadSize >= 1, "maxUploadSize must be positive, got " + maxUploadSize);
        check(maxImagePixels >= 1, "maxImagePixels must be positive, got " + maxImagePixels);
        check(decodeBudgetPixels >= 1, "decodeBudgetPixels must be positive, got " + decodeBudgetPixels);
        check(!decodeWait.isNegative(), "decodeWait must not be negative");
        check(!requestBodyTimeout.isNegative() && !requestBodyTimeout.isZero(), "requestBodyTimeout must be positive");
        check(maxFilesPerUpload >= 1, "maxFilesPerUpload must be positive, got " + maxFilesPerUpload);
        check(port >= 0 && port <= 65535, "port must be 0-65535, got " + port);
        check(embedThreads >= 0, "embedThreads must be 0 (auto) or positive, got " + embedThreads);
        check(queryBatchSize >= 1, "queryBatchSize must be positive, got " + queryBatchSize);
        check(!searchRequiresToken || apiToken != null, "searchRequiresToken needs an apiToken");
        check(!refreshInterval.isNegative() && !refreshInterval.isZero(), "refreshInterval must be positive");
        check(!requestTimeout.isNegative() && !requestTimeout.isZero(), "requestTimeout must be positive");
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The server's choice of model threads when QUERY_EMBED_THREADS is auto. */
    public int effectiveEmbedThreads() {
        // One model thread with PyTorch's intra-op threads over every core: a lone query uses every
        // core, and under load coalescing fills its batches (2.4-3x the throughput of one query per
        // pass; docs/benchmarks.md, "Search latency"). More model threads were not measured.
        return embedThreads == 0 ? 1 : embedThreads;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The options the configuration gives, less the services' addresses.
     *
     * @param model the configured model, resolved ({@link ConfiguredModel#resolve})
     */
    public static Builder from(ImsrcConfig config, ConfiguredModel model) {
        return builder()
                .dbTimeouts(config.database().timeouts())
                .uploadsTopic(config.kafka().uploadsTopic())
                .model(model)
                .device(config.model().device())
                .indexType(config.faiss().indexType())
                .indexPath(config.faiss().indexPath())
                .refreshInterval(Duration.ofMillis(config.indexRefresh().intervalMs()))
                .defaultLimit(config.search().defaultLimit())
                .usePrototypes(config.search().useProtoFiltering())
                .maxUploadSize(config.search().maxUploadSize())
                .maxImagePixels(config.model().maxImagePixels())
                .decodeBudgetPixels(config.model().decodeBudgetPixels())
                .host(config.api().host())
                .port(config.api().port())
                .apiToken(config.api().token())
                .searchRequiresToken(config.api().searchRequiresToken())
                .embedThreads(config.api().embedThreads())
                .queryBatchSize(config.api().queryBatchSize())
                .uploadDeadlines(new QueuedUploadSweeper.Deadlines(Duration.ofMillis(config.uploads().publishDeadlineMs()),
                        Duration.ofMillis(config.uploads().ingestDeadlineMs())))
                .allowedOrigins(config.api().allowedOrigins())
                .requestBodyTimeout(Duration.ofMillis(config.api().requestBodyTimeoutMs()));
    }

    /** A builder with the defaults of the README's configuration reference, as ImsrcConfig has them. */
    public static final class Builder {
        private String jdbcUrl;
        private String dbUser = "postgres";
        private String dbPassword;
        private DatabaseTimeouts dbTimeouts = DatabaseTimeouts.DEFAULTS;
        private String kafkaBootstrapServers;
        private String uploadsTopic = "imsrc.uploads";
        private ConfiguredModel model;
        private Device device = Device.AUTO;
        private IndexType indexType = IndexType.FLATL2;
        private Path indexPath = Path.of("data", "faiss_index.bin");
        private Duration refreshInterval = Duration.ofMillis(500);
        private int defaultLimit = 10;
        private boolean usePrototypes = true;
        private long maxUploadSize = 10_485_760L;
        private long maxImagePixels = ImageDecodeOptions.DEFAULT_MAX_PIXELS;
        private long decodeBudgetPixels = DecodeBudget.DEFAULT_PIXELS;
        private Duration decodeWait = Duration.ofSeconds(5);
        private int maxFilesPerUpload = DEFAULT_MAX_FILES_PER_UPLOAD;
        private String host = "127.0.0.1";
        private int port = 8000;
        private String apiToken;
        private boolean searchRequiresToken;
        private int embedThreads;
        private int queryBatchSize = 8;
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration requestBodyTimeout = Duration.ofSeconds(60);
        private List<String> allowedOrigins = List.of();
        private String flinkDashboardUrl;
        private QueuedUploadSweeper.Deadlines uploadDeadlines = QueuedUploadSweeper.Deadlines.defaults();

        private Builder() {}

        public Builder database(String jdbcUrl, String user, String password) {
            this.jdbcUrl = jdbcUrl;
            this.dbUser = user;
            this.dbPassword = password;
            return this;
        }

        public Builder dbTimeouts(DatabaseTimeouts value) {
            this.dbTimeouts = value;
            return this;
        }

        public Builder kafkaBootstrapServers(String value) {
            this.kafkaBootstrapServers = value;
            return this;
        }

        public Builder uploadsTopic(String value) {
            this.uploadsTopic = value;
            return this;
        }

        public Builder model(ConfiguredModel value) {
            this.model = value;
            return this;
        }

        public Builder device(Device value) {
            this.device = value;
            return this;
        }

        public Builder indexType(IndexType value) {
            this.indexType = value;
            return this;
        }

        public Builder indexPath(Path value) {
            this.indexPath = value;
            return this;
        }

        public Builder refreshInterval(Duration value) {
            this.refreshInterval = value;
            return this;
        }

        public Builder defaultLimit(int value) {
            this.defaultLimit = value;
            return this;
        }

        public Builder usePrototypes(boolean value) {
            this.usePrototypes = value;
            return this;
        }

        public Builder maxUploadSize(long value) {
            this.maxUploadSize = value;
            return this;
        }

        public Builder maxImagePixels(long value) {
            this.maxImagePixels = value;
            return this;
        }

        public Builder decodeBudgetPixels(long value) {
            this.decodeBudgetPixels = value;
            return this;
        }

        public Builder decodeWait(Duration value) {
            this.decodeWait = value;
            return this;
        }

        public Builder requestBodyTimeout(Duration value) {
            this.requestBodyTimeout = value;
            return this;
        }

        public Builder allowedOrigins(List<String> value) {
            this.allowedOrigins = value;
            return this;
        }

        public Builder maxFilesPerUpload(int value) {
            this.maxFilesPerUpload = value;
            return this;
        }

        public Builder host(String value) {
            this.host = value;
            return this;
        }

        public Builder port(int value) {
            this.port = value;
            return this;
        }

        public Builder apiToken(String value) {
            this.apiToken = value;
            return this;
        }

        public Builder searchRequiresToken(boolean value) {
            this.searchRequiresToken = value;
            return this;
        }

        public Builder embedThreads(int value) {
            this.embedThreads = value;
            return this;
        }

        public Builder queryBatchSize(int value) {
            this.queryBatchSize = value;
            return this;
        }

        public Builder requestTimeout(Duration value) {
            this.requestTimeout = value;
            return this;
        }

        public Builder flinkDashboardUrl(String value) {
            this.flinkDashboardUrl = value;
            return this;
        }

        public Builder uploadDeadlines(QueuedUploadSweeper.Deadlines value) {
            this.uploadDeadlines = value;
            return this;
        }

        public QueryServerOptions build() {
            return new QueryServerOptions(jdbcUrl, dbUser, dbPassword, dbTimeouts, kafkaBootstrapServers, uploadsTopic,
                    model, device, indexType, indexPath, refreshInterval, defaultLimit, usePrototypes, maxUploadSize,
                    maxImagePixels, decodeBudgetPixels, decodeWait, maxFilesPerUpload, host, port, apiToken,
                    searchRequiresToken, embedThreads, queryBatchSize, requestTimeout, requestBodyTimeout, allowedOrigins,
                    flinkDashboardUrl, uploadDeadlines);
        }
    }

    @Override
    public String toString() {
        return "QueryServerOptions[jdbcUrl=" + jdbcUrl + ", kafka=" + kafkaBootstrapServers + ", model="
                + model.modelId() + ", index=" + indexType.configValue() + " at " + indexPath + ", port=" + port
                + ", apiToken=" + (apiToken == null ? "(none)" : "(set)") + "]";
    }
}
