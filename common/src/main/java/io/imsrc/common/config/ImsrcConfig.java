package io.imsrc.common.config;

import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.faiss.IndexType;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The whole typed configuration of imsrc, one record per concern, read once by an entry point.
 *
 * <p>The README's configuration reference lists every variable with its default; names of the
 * original design are kept (docs/design.md, "Configuration"). Every value is checked here, so a
 * component that receives a config never sees an out-of-range value.
 *
 * <p>The records and their reader stay in one file (over 300 lines) on purpose: a new setting is a
 * record component and a line of {@link #from(Settings)}, edited together; components such as the
 * query server's options compose these records instead of copying their values.
 */
public record ImsrcConfig(
        DatabaseConfig database,
        ModelConfig model,
        FaissConfig faiss,
        SearchConfig search,
        ApiConfig api,
        KafkaConfig kafka,
        BatchConfig batch,
        IndexRefreshConfig indexRefresh,
        Path dataDir,
        String cifar10Source,
        FlinkConfig flink,
        UploadsConfig uploads) {

    /**
     * The official CIFAR-10 binary archive (about 160 MB). CIFAR10_SOURCE defaults to its training
     * split ({@code #train}), so the test split stays free for queries.
     */
    public static final String CIFAR10_OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

    /** The value of DB_HOST and KAFKA_BOOTSTRAP_SERVERS that asks for the embedded service (also: unset). */
    public static final String EMBEDDED = "embedded";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern ORIGIN = Pattern.compile("https?://[A-Za-z0-9.\\[\\]:-]+/?");

    public ImsrcConfig {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(faiss, "faiss");
        Objects.requireNonNull(search, "search");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(indexRefresh, "indexRefresh");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(cifar10Source, "cifar10Source");
        Objects.requireNonNull(flink, "flink");
        Objects.requireNonNull(uploads, "uploads");
    }

    /**
     * PostgreSQL.
     *
     * @param host null for the embedded server the launcher starts
     * @param password null for none
     * @param timeouts how long the query server waits for it
     */
    public record DatabaseConfig(String host, int port, String name, String user, String password,
            DatabaseTimeouts timeouts) {
        public DatabaseConfig {
            Objects.requireNonNull(timeouts, "timeouts");
        }

        public boolean embedded() {
            return host == null;
        }

        /** The JDBC URL of an external server; the embedded server's URL is known only once it runs. */
        public String jdbcUrl() {
            if (embedded()) {
                throw new IllegalStateException("The embedded PostgreSQL's URL is known once it has started");
            }
            return "jdbc:postgresql://" + host + ":" + port + "/" + name;
        }

        @Override
        public String toString() {
            return "DatabaseConfig[host=" + (host == null ? EMBEDDED : host) + ", port=" + port + ", name=" + name
                    + ", user=" + user + ", password=" + (password == null ? "(none)" : "(set)") + ", " + timeouts + "]";
        }
    }

    /**
     * How long the query server waits for PostgreSQL, so that a server that stops answering, or a
     * connection whose other end is gone without a word (half-open), cannot hold request threads:
     * such a request answers 503 instead.
     *
     * @param connect DB_CONNECT_TIMEOUT_MS: opening a connection, TCP connect and login
     * @param socket DB_SOCKET_TIMEOUT_MS: the longest wait for the server's next bytes, the backstop
     *     for a server that hangs; {@link Duration#ZERO} for none. Keep it above {@code statement}, so
     *     that a slow statement is cancelled by PostgreSQL (the connection stays usable) before the
     *     connection is given up
     * @param statement DB_STATEMENT_TIMEOUT_MS: PostgreSQL's statement_timeout for the server's
     *     statements; {@link Duration#ZERO} for none
     */
    public record DatabaseTimeouts(Duration connect, Duration socket, Duration statement) {

        /** 5 s to connect, 30 s for the next bytes, 20 s per statement. */
        public static final DatabaseTimeouts DEFAULTS =
                new DatabaseTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(20));

        public DatabaseTimeouts {
            Objects.requireNonNull(connect, "connect");
            Objects.requireNonNull(socket, "socket");
            Objects.requireNonNull(statement, "statement");
            if (connect.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("connect must be at least 1 s, got " + connect);
            }
            if (!socket.isZero() && socket.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("socket must be 0 (none) or at least 1 s, got " + socket);
            }
            if (statement.isNegative()) {
                throw new IllegalArgumentException("statement must be 0 (none) or positive, got " + statement);
            }
        }

        @Override
        public String toString() {
            return "DatabaseTimeouts[connect=" + connect.toMillis() + " ms, socket=" + socket.toMillis()
                    + " ms, statement=" + statement.toMillis() + " ms]";
        }
    }

    /**
     * The embedding model and the images it is given.
     *
     * @param name the model description to use
     * @param path a TorchScript file or URL overriding the description's; null for the description's
     * @param maxImagePixels MAX_IMAGE_PIXELS: the most pixels any size an image declares may have
     * @param decodeBudgetPixels DECODE_BUDGET_PIXELS: the pixels one process decodes at once
     */
    public record ModelConfig(String name, String path, Device device, long maxImagePixels, long decodeBudgetPixels) {}

    public record FaissConfig(Path indexPath, IndexType indexType) {}

    /**
     * Searches.
     *
     * @param searchThreads SEARCH_THREADS: the most threads one search's second stage may use while
     *     the server has cores to spare, or {@link ApiConfig#AUTO} for one per core; 1 searches each
     *     request's categories on its own thread
     */
    public record SearchConfig(boolean useProtoFiltering, int defaultLimit, long maxUploadSize, int searchThreads) {

        /** SEARCH_THREADS resolved: one per core for auto. */
        public int effectiveSearchThreads() {
            return searchThreads == ApiConfig.AUTO ? Runtime.getRuntime().availableProcessors() : searchThreads;
        }
    }

    /**
     * The query server's HTTP API.
     *
     * @param token null when write and admin endpoints are open
     * @param searchRequiresToken whether search and read endpoints require the token too
     *     (SEARCH_REQUIRES_TOKEN); they are open by default
     * @param embedThreads QUERY_EMBED_THREADS: model threads that embed query images, or {@link
     *     #AUTO} for the server's choice
     * @param intraOpThreads QUERY_INTRA_OP_THREADS: PyTorch threads inside each model thread's
     *     forward pass, or {@link #AUTO} for the server's choice
     * @param queryBatchSize QUERY_BATCH_SIZE: the most queries one forward pass may embed together
     *     (request coalescing); 1 turns coalescing off
     * @param allowedOrigins API_ALLOWED_ORIGINS: browser origins (or {@code *}) whose pages may send
     *     writes (uploads, /admin) besides the server's own /app page; empty for none
     * @param requestBodyTimeoutMs REQUEST_BODY_TIMEOUT_MS: how long a request's body may take to
     *     arrive before it is answered 408
     * @param requestSpoolDir REQUEST_SPOOL_DIR: where the server spools request parts too large to
     *     hold in memory (in a directory of its own, deleted when it stops); the system's temporary
     *     directory by default, which may be a small tmpfs or read-only in a container
     */
    public record ApiConfig(String host, int port, String token, boolean searchRequiresToken, int embedThreads,
            int intraOpThreads, int queryBatchSize, List<String> allowedOrigins, long requestBodyTimeoutMs, Path requestSpoolDir) {

        public ApiConfig {
            allowedOrigins = List.copyOf(allowedOrigins);
            Objects.requireNonNull(requestSpoolDir, "requestSpoolDir");
        }

        /** QUERY_EMBED_THREADS=auto. */
        public static final int AUTO = 0;

        /** This API on {@code newPort} instead (a command line's --port over API_PORT). */
        public ApiConfig withPort(int newPort) {
            if (newPort < 0 || newPort > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, got " + newPort);
            }
            return new ApiConfig(host, newPort, token, searchRequiresToken, embedThreads, intraOpThreads, queryBatchSize,
                    allowedOrigins,
                    requestBodyTimeoutMs, requestSpoolDir);
        }

        public Duration requestBodyTimeout() {
            return Duration.ofMillis(requestBodyTimeoutMs);
        }

        @Override
        public String toString() {
            return "ApiConfig[host=" + host + ", port=" + port + ", token=" + (token == null ? "(none)" : "(set)")
                    + ", searchRequiresToken=" + searchRequiresToken + ", embedThreads="
                    + (embedThreads == AUTO ? "auto" : embedThreads) + ", intraOpThreads="
                    + (intraOpThreads == AUTO ? "auto" : intraOpThreads) + ", queryBatchSize=" + queryBatchSize
                    + ", allowedOrigins=" + allowedOrigins + ", requestBodyTimeoutMs=" + requestBodyTimeoutMs
                    + ", requestSpoolDir=" + requestSpoolDir + "]";
        }
    }

    /** @param bootstrapServers null for the embedded broker the launcher starts */
    public record KafkaConfig(String bootstrapServers, String uploadsTopic) {
        public boolean embedded() {
            return bootstrapServers == null;
        }
    }

    /** Serializable: the job carries it to the task managers inside its embedding settings. */
    public record BatchConfig(int batchSize, long maxDelayMs) implements Serializable {}

    public record IndexRefreshConfig(long intervalMs) {

        public Duration interval() {
            return Duration.ofMillis(intervalMs);
        }
    }

    /**
     * The Flink job.
     *
     * @param restUrl a cluster's REST address to submit to; null to run in a local Flink
     * @param parallelism the job's parallelism, or {@link #AUTO_PARALLELISM} for one subtask per
     *     core in a local Flink and the cluster's default on a cluster
     * @param checkpointIntervalMs 0 turns checkpointing off
     * @param webPort the port of the local Flink's dashboard (and REST API); 0 for any free port
     * @param jobJar the job jar shipped to a cluster (FLINK_JOB_JAR); {@code null} for the one
     *     the build made beside the ingest-job module's classes
     * @param stateBackend FLINK_STATE_BACKEND, {@code null} when not given: a local Flink then uses
     *     {@link #localStateBackend()}, a cluster its own configuration
     */
    public record FlinkConfig(String restUrl, int parallelism, long checkpointIntervalMs, int webPort, Path jobJar,
            StateBackend stateBackend) {

        /** FLINK_PARALLELISM=auto, the default. */
        public static final int AUTO_PARALLELISM = 0;

        /**
         * Where the job keeps its keyed state (the admission's {@code Seen} per image id, the
         * prototype sums per category): Flink's own backends, under the names of Flink's
         * {@code state.backend.type}.
         */
        public enum StateBackend {
            /** Java objects on the task manager's heap: fast, but every stored image id costs heap. */
            HASHMAP("hashmap"),
            /**
             * RocksDB on local disk, off the heap, with incremental checkpoints (only the files
             * written since the last checkpoint are uploaded).
             */
            ROCKSDB("rocksdb");

            private final String configValue;

            StateBackend(String configValue) {
                this.configValue = configValue;
            }

            /** The value of Flink's {@code state.backend.type}. */
            public String configValue() {
                return configValue;
            }

            public static StateBackend parse(String value) {
                for (StateBackend backend : values()) {
                    if (backend.configValue.equalsIgnoreCase(value.strip())) {
                        return backend;
                    }
                }
                throw new IllegalArgumentException("expected hashmap or rocksdb, got '" + value + "'");
            }
        }

        /** The parallelism of a job in a local Flink on a machine with {@code cores} cores. */
        public int localParallelism(int cores) {
            return parallelism == AUTO_PARALLELISM ? Math.max(1, cores) : parallelism;
        }

        /**
         * The state backend of a job in a local Flink: FLINK_STATE_BACKEND, else RocksDB, which
         * keeps the heap flat however many images are stored (docs/benchmarks.md, "The job at
         * scale").
         */
        public StateBackend localStateBackend() {
            return stateBackend != null ? stateBackend : StateBackend.ROCKSDB;
        }

        public FlinkConfig withParallelism(int value) {
            return new FlinkConfig(restUrl, value, checkpointIntervalMs, webPort, jobJar, stateBackend);
        }

        public FlinkConfig withCheckpointIntervalMs(long value) {
            return new FlinkConfig(restUrl, parallelism, value, webPort, jobJar, stateBackend);
        }

        public FlinkConfig withStateBackend(StateBackend value) {
            return new FlinkConfig(restUrl, parallelism, checkpointIntervalMs, webPort, jobJar, value);
        }
    }

    /**
     * When the query server gives up on an upload it recorded as queued (it marks it rejected; the
     * job's write still makes it indexed should the upload reach it later).
     *
     * @param publishDeadlineMs UPLOAD_PUBLISH_DEADLINE_MS: a queued upload Kafka never acknowledged
     *     (the server stopped between recording and publishing it) is NOT_PUBLISHED after this long
     * @param ingestDeadlineMs UPLOAD_INGEST_DEADLINE_MS: a published upload the job has not stored
     *     is NOT_INGESTED after this long; the default is Kafka's default retention of 7 days
     */
    public record UploadsConfig(long publishDeadlineMs, long ingestDeadlineMs) {

        public static final long DEFAULT_PUBLISH_DEADLINE_MS = 5 * 60_000L;
        public static final long DEFAULT_INGEST_DEADLINE_MS = 7 * 86_400_000L;
    }

    /** The configuration of this process: its environment over the working directory's .env file. */
    public static ImsrcConfig fromEnvironment() {
        return from(Settings.fromEnvironment());
    }

    /**
     * Reads and checks every variable.
     *
     * @throws ConfigException naming each variable whose value is not accepted, and what it accepts
     */
    public static ImsrcConfig from(Settings s) {
        String dbHost = s.optionalString("DB_HOST");
        if (EMBEDDED.equalsIgnoreCase(dbHost)) {
            dbHost = null;
        }
        var database = new DatabaseConfig(
                dbHost,
                s.integer("DB_PORT", 5432, 1, 65535),
                identifier(s, "DB_NAME", "imsrc"),
                s.string("DB_USER", "postgres"),
                s.optionalString("DB_PASSWORD"),
                databaseTimeouts(s));

        var model = new ModelConfig(
                modelName(s),
                s.optionalString("MODEL_PATH"),
                s.parsed("DEVICE", Device.AUTO, Device::parse),
                s.longValue("MAX_IMAGE_PIXELS", ImageDecodeOptions.DEFAULT_MAX_PIXELS, 1, 1_000_000_000L),
                s.longValue("DECODE_BUDGET_PIXELS", DecodeBudget.DEFAULT_PIXELS, 1, 10_000_000_000L));

        Path dataDir = path(s, "DATA_DIR", "./data");
        var faiss = new FaissConfig(
                path(s, "FAISS_INDEX_PATH", dataDir.resolve("faiss_index.bin").toString()),
                s.parsed("FAISS_INDEX_TYPE", IndexType.AUTO, IndexType::parse));

        int searchThreads = ApiConfig.AUTO;
        if (!s.string("SEARCH_THREADS", "auto").equalsIgnoreCase("auto")) {
            searchThreads = s.integer("SEARCH_THREADS", 1, 1, 256);
        }
        var search = new SearchConfig(
                s.bool("USE_PROTOTYPE_FILTERING", true),
                s.integer("DEFAULT_SEARCH_LIMIT", 10, 1, 50),
                s.longValue("MAX_UPLOAD_SIZE", 10_485_760L, 1, 512L * 1024 * 1024),
                searchThreads);

        String token = s.optionalString("API_TOKEN");
        boolean searchRequiresToken = s.bool("SEARCH_REQUIRES_TOKEN", false);
        if (searchRequiresToken && token == null) {
            s.problem("SEARCH_REQUIRES_TOKEN", "false unless API_TOKEN is set", "true");
        }
        int embedThreads = ApiConfig.AUTO;
        if (!s.string("QUERY_EMBED_THREADS", "auto").equalsIgnoreCase("auto")) {
            embedThreads = s.integer("QUERY_EMBED_THREADS", 1, 1, 64);
        }
        int intraOpThreads = ApiConfig.AUTO;
        if (!s.string("QUERY_INTRA_OP_THREADS", "auto").equalsIgnoreCase("auto")) {
            intraOpThreads = s.integer("QUERY_INTRA_OP_THREADS", 1, 1, 64);
        }
        var api = new ApiConfig(
                s.string("API_HOST", "127.0.0.1"),
                s.integer("API_PORT", 8000, 0, 65535),
                token,
                searchRequiresToken,
                embedThreads,
                intraOpThreads,
                s.integer("QUERY_BATCH_SIZE", 8, 1, 64),
                origins(s, "API_ALLOWED_ORIGINS"),
                s.longValue("REQUEST_BODY_TIMEOUT_MS", 60_000, 1_000, 3_600_000),
                path(s, "REQUEST_SPOOL_DIR", System.getProperty("java.io.tmpdir")));

        String kafkaServers = s.optionalString("KAFKA_BOOTSTRAP_SERVERS");
        if (EMBEDDED.equalsIgnoreCase(kafkaServers)) {
            kafkaServers = null;
        }
        var kafka = new KafkaConfig(kafkaServers, name(s, "KAFKA_UPLOADS_TOPIC", "imsrc.uploads"));

        var batch = new BatchConfig(
                s.integer("BATCH_SIZE", EmbedderOptions.DEFAULT_BATCH_SIZE, 1, EmbedderOptions.MAX_BATCH_SIZE),
                s.longValue("BATCH_MAX_DELAY_MS", 50, 0, 60_000));

        var refresh = new IndexRefreshConfig(s.longValue("INDEX_REFRESH_MS", 500, 10, 3_600_000));

        String cifar = s.string("CIFAR10_SOURCE", CIFAR10_OFFICIAL_URL + "#train");
        if (cifar.contains("://")) {
            url(s, "CIFAR10_SOURCE", cifar);
        }

        String restUrl = s.optionalString("FLINK_REST_URL");
        if (restUrl != null) {
            url(s, "FLINK_REST_URL", restUrl);
        }
        long checkpointInterval = s.longValue("CHECKPOINT_INTERVAL_MS", 10_000, 0, 86_400_000L);
        if (checkpointInterval > 0 && checkpointInterval < 10) {
            s.problem("CHECKPOINT_INTERVAL_MS", "0 (off) or at least 10 ms", Long.toString(checkpointInterval));
        }
        int parallelism = FlinkConfig.AUTO_PARALLELISM;
        if (!s.string("FLINK_PARALLELISM", "auto").equalsIgnoreCase("auto")) {
            parallelism = s.integer("FLINK_PARALLELISM", 1, 1, 1024);
        }
        String jobJar = s.optionalString("FLINK_JOB_JAR");
        var flink = new FlinkConfig(restUrl, parallelism, checkpointInterval, s.integer("FLINK_WEB_PORT", 8081, 0, 65535),
                jobJar == null ? null : path(s, "FLINK_JOB_JAR", jobJar),
                s.parsed("FLINK_STATE_BACKEND", null, FlinkConfig.StateBackend::parse));

        // A publication waits at most 30 s for Kafka: a minute's deadline never fails one under way.
        var uploads = new UploadsConfig(
                s.longValue("UPLOAD_PUBLISH_DEADLINE_MS", UploadsConfig.DEFAULT_PUBLISH_DEADLINE_MS, 60_000, 86_400_000L),
                s.longValue("UPLOAD_INGEST_DEADLINE_MS", UploadsConfig.DEFAULT_INGEST_DEADLINE_MS, 60_000,
                        365 * 86_400_000L));

        s.throwIfInvalid();
        return new ImsrcConfig(database, model, faiss, search, api, kafka, batch, refresh, dataDir, cifar, flink,
                uploads);
    }

    private static DatabaseTimeouts databaseTimeouts(Settings s) {
        DatabaseTimeouts defaults = DatabaseTimeouts.DEFAULTS;
        long connect = s.longValue("DB_CONNECT_TIMEOUT_MS", defaults.connect().toMillis(), 1_000, 600_000);
        long socket = s.longValue("DB_SOCKET_TIMEOUT_MS", defaults.socket().toMillis(), 0, 3_600_000);
        if (socket > 0 && socket < 1_000) {
            s.problem("DB_SOCKET_TIMEOUT_MS", "0 (none) or from 1000 to 3600000", Long.toString(socket));
            socket = defaults.socket().toMillis();
        }
        long statement = s.longValue("DB_STATEMENT_TIMEOUT_MS", defaults.statement().toMillis(), 0, 3_600_000);
        if (socket > 0 && (statement == 0 || statement >= socket)) {
            // The connection would be given up while PostgreSQL still runs the statement.
            s.problem("DB_STATEMENT_TIMEOUT_MS", "a value below DB_SOCKET_TIMEOUT_MS (" + socket
                    + "), or DB_SOCKET_TIMEOUT_MS=0", Long.toString(statement));
        }
        return new DatabaseTimeouts(Duration.ofMillis(connect), Duration.ofMillis(socket), Duration.ofMillis(statement));
    }

    private static String identifier(Settings s, String name, String defaultValue) {
        String v = s.string(name, defaultValue);
        if (!v.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
            s.problem(name, "a database name of letters, digits and underscores", v);
        }
        return v;
    }

    /**
     * A built-in description's name, a model trained into DATA_DIR/models, or the path of a
     * description JSON file (ending in .json).
     */
    private static String modelName(Settings s) {
        String v = s.string("MODEL_NAME", ModelDescription.DEFAULT.name());
        if (v.endsWith(".json")) {
            path(s, "MODEL_NAME", v);
            return v;
        }
        return name(s, "MODEL_NAME", ModelDescription.DEFAULT.name());
    }

    private static String name(Settings s, String name, String defaultValue) {
        String v = s.string(name, defaultValue);
        if (!NAME.matcher(v).matches()) {
            s.problem(name, "a name of letters, digits, '.', '_' and '-'", v);
        }
        return v;
    }

    /** Comma-separated origins, each {@code http(s)://host[:port]} as browsers send them, or {@code *}. */
    private static List<String> origins(Settings s, String name) {
        String v = s.optionalString(name);
        if (v == null) {
            return List.of();
        }
        List<String> origins = new ArrayList<>();
        for (String part : v.split(",")) {
            String origin = part.strip();
            if (origin.isEmpty()) {
                continue;
            }
            if (!origin.equals("*") && !ORIGIN.matcher(origin).matches()) {
                s.problem(name, "comma-separated origins such as https://example.org or http://localhost:3000 "
                        + "(scheme, host and port only), or *", origin);
            }
            origins.add(origin);
        }
        return origins;
    }

    private static Path path(Settings s, String name, String defaultValue) {
        String v = s.string(name, defaultValue);
        try {
            return Path.of(v);
        } catch (InvalidPathException e) {
            s.problem(name, "a file system path", v);
            return Path.of(defaultValue);
        }
    }

    private static void url(Settings s, String name, String value) {
        try {
            URI uri = new URI(value);
            String scheme = uri.getScheme();
            if (scheme == null || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("file"))
                    || (!scheme.equals("file") && uri.getHost() == null)) {
                s.problem(name, "an http(s) URL with a host, a file: URL or a path", value);
            }
        } catch (URISyntaxException e) {
            s.problem(name, "an http(s) URL with a host, a file: URL or a path", value);
        }
    }
}
