package io.imsrc.query;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.ImsrcConfig.ApiConfig;
import io.imsrc.common.config.ImsrcConfig.DatabaseTimeouts;
import io.imsrc.common.config.ImsrcConfig.FaissConfig;
import io.imsrc.common.config.ImsrcConfig.IndexRefreshConfig;
import io.imsrc.common.config.ImsrcConfig.ModelConfig;
import io.imsrc.common.config.ImsrcConfig.SearchConfig;
import io.imsrc.common.config.ImsrcConfig.UploadsConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the query server needs: the configuration's records as {@link ImsrcConfig} read and
 * checked them, plus the services the entry point started or found, whose addresses only it knows.
 *
 * <p>The values are not checked again here: {@link ImsrcConfig#from} checks each variable (with its
 * name in the message), and a new setting belongs in its config record and reader, not here.
 *
 * @param services PostgreSQL, Kafka, the model and the Flink dashboard
 * @param api host, port, token, origins, model threads, request coalescing, body timeout
 * @param search DEFAULT_SEARCH_LIMIT, USE_PROTOTYPE_FILTERING, MAX_UPLOAD_SIZE
 * @param faiss FAISS_INDEX_TYPE and FAISS_INDEX_PATH
 * @param indexRefresh INDEX_REFRESH_MS: the index manager's polling when no notification comes
 * @param images DEVICE, MAX_IMAGE_PIXELS and DECODE_BUDGET_PIXELS (the model itself is {@link
 *     Services#model}, already resolved)
 * @param dbTimeouts DB_CONNECT_TIMEOUT_MS, DB_SOCKET_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS
 * @param uploadsTopic KAFKA_UPLOADS_TOPIC
 * @param uploads UPLOAD_PUBLISH_DEADLINE_MS and UPLOAD_INGEST_DEADLINE_MS: when a queued upload is
 *     given up
 * @param limits the server's own bounds that no variable sets
 */
public record QueryServerOptions(
        Services services,
        ApiConfig api,
        SearchConfig search,
        FaissConfig faiss,
        IndexRefreshConfig indexRefresh,
        ModelConfig images,
        DatabaseTimeouts dbTimeouts,
        String uploadsTopic,
        UploadsConfig uploads,
        Limits limits) {

    public QueryServerOptions {
        Objects.requireNonNull(services, "services");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(search, "search");
        Objects.requireNonNull(faiss, "faiss");
        Objects.requireNonNull(indexRefresh, "indexRefresh");
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(dbTimeouts, "dbTimeouts");
        Objects.requireNonNull(uploadsTopic, "uploadsTopic");
        Objects.requireNonNull(uploads, "uploads");
        Objects.requireNonNull(limits, "limits");
    }

    /** The configuration's options for the server, with the services the entry point gives it. */
    public static QueryServerOptions from(ImsrcConfig config, Services services) {
        return new QueryServerOptions(services, config.api(), config.search(), config.faiss(), config.indexRefresh(),
                config.model(), config.database().timeouts(), config.kafka().uploadsTopic(), config.uploads(),
                Limits.DEFAULTS);
    }

    /** These options listening on {@code port} instead (a command line's --port over API_PORT). */
    public QueryServerOptions withPort(int port) {
        return new QueryServerOptions(services, api.withPort(port), search, faiss, indexRefresh, images, dbTimeouts,
                uploadsTopic, uploads, limits);
    }

    /** The server's choice of model threads when QUERY_EMBED_THREADS is auto. */
    public int effectiveEmbedThreads() {
        // One model thread (its PyTorch threads: effectiveIntraOpThreads): under load coalescing
        // fills its batches (2.4-3x the throughput of one query per pass; docs/benchmarks.md,
        // "Search latency"). Two model threads of one intra-op thread each were no clear gain at 8
        // clients on 2 cores and had a worse p99 in 4 of 5 rounds.
        return api.embedThreads() == ApiConfig.AUTO ? 1 : api.embedThreads();
    }

    /** PyTorch's intra-op threads in each model thread on a machine of {@code cores} cores. */
    public int effectiveIntraOpThreads(int cores) {
        return intraOpThreads(api.intraOpThreads(), effectiveEmbedThreads(), cores);
    }

    /**
     * QUERY_INTRA_OP_THREADS as given, or for auto the cores less one shared out among the model
     * threads, at least one each. The core left over is for the request threads (multipart,
     * decode, search, JSON): PyTorch's intra-op threads meet at a barrier after every operator, so
     * when they span every core, a request thread that preempts one stalls the whole forward pass;
     * and a query batch (at most QUERY_BATCH_SIZE, 8) is too small for a second thread to pay. On
     * the 2-core development machine one intra-op thread instead of two gave 8 clients more
     * throughput and a lower p99 when the machine was otherwise quiet, and halved a lone query's
     * time when it was busy (where 8 clients' throughput came out even and their p99 mixed;
     * docs/benchmarks.md, "Search latency", "PyTorch threads of the query model"). Larger machines
     * were not measured.
     */
    static int intraOpThreads(int configured, int modelThreads, int cores) {
        return configured != ApiConfig.AUTO ? configured : Math.max(1, (cores - 1) / modelThreads);
    }

    /**
     * The services the server is given.
     *
     * @param postgres where the catalog and the vectors are
     * @param kafkaBootstrapServers the Kafka cluster uploads are published to; {@code null} for a
     *     server without uploads (POST /upload answers 503)
     * @param model the model queries are embedded with; its id picks the vectors to search
     * @param flinkDashboardUrl the Flink dashboard the web page links to; {@code null} for none
     */
    public record Services(PostgresLogin postgres, String kafkaBootstrapServers, ConfiguredModel model,
            String flinkDashboardUrl) {

        public Services {
            Objects.requireNonNull(postgres, "postgres");
            Objects.requireNonNull(model, "model");
        }

        @Override
        public String toString() {
            return "Services[postgres=" + postgres + ", kafka=" + kafkaBootstrapServers + ", model=" + model.modelId()
                    + ", flinkDashboard=" + flinkDashboardUrl + "]";
        }
    }

    /** @param password {@code null} for none */
    public record PostgresLogin(String jdbcUrl, String user, String password) {

        public PostgresLogin {
            Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            Objects.requireNonNull(user, "user");
        }

        @Override
        public String toString() {
            return "PostgresLogin[" + jdbcUrl + ", user=" + user + ", password="
                    + (password == null ? "(none)" : "(set)") + "]";
        }
    }

    /**
     * Bounds the server sets itself; tests lower them to reach the edges quickly.
     *
     * @param maxFilesPerUpload the most images one POST /upload may carry
     * @param decodeWait how long a request waits for room in the decode budget before it is answered
     *     503
     * @param requestTimeout how long a request waits for the model or Kafka before it is answered 503
     */
    public record Limits(int maxFilesPerUpload, Duration decodeWait, Duration requestTimeout) {

        public static final Limits DEFAULTS = new Limits(100, Duration.ofSeconds(5), Duration.ofSeconds(30));

        public Limits {
            Objects.requireNonNull(decodeWait, "decodeWait");
            Objects.requireNonNull(requestTimeout, "requestTimeout");
            if (maxFilesPerUpload < 1) {
                throw new IllegalArgumentException("maxFilesPerUpload must be positive, got " + maxFilesPerUpload);
            }
            if (decodeWait.isNegative()) {
                throw new IllegalArgumentException("decodeWait must not be negative");
            }
            if (requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("requestTimeout must be positive");
            }
        }
    }
}
