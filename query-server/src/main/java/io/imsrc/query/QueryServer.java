package io.imsrc.query;

import io.imsrc.common.config.ImsrcConfig.ApiConfig;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.io.FileTrees;
import io.imsrc.query.health.ServiceProbes;
import io.imsrc.query.http.ApiServer;
import io.imsrc.query.http.HttpMetrics;
import io.imsrc.query.http.ImageApi;
import io.imsrc.query.http.OpsApi;
import io.imsrc.query.http.RequestImages;
import io.imsrc.query.http.SearchApi;
import io.imsrc.query.http.SearchParameters;
import io.imsrc.query.index.IndexLag;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.search.QueryEmbedder;
import io.imsrc.query.search.VectorSearch;
import io.imsrc.query.store.Catalog;
import io.imsrc.query.store.CountCompactor;
import io.imsrc.query.store.Database;
import io.imsrc.query.store.VectorStore;
import io.imsrc.query.upload.QueuedUploadSweeper;
import io.imsrc.query.upload.UploadPublisher;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query server: the HTTP API over a live FAISS index kept in step with PostgreSQL, with
 * uploads published to Kafka for the ingest job.
 *
 * <p>{@link #start} migrates the schema, loads the model, starts the index manager (which loads the
 * saved index or builds one in the background), the sweep that gives up on uploads left queued
 * ({@link QueuedUploadSweeper}), the compaction of the maintained counts ({@link CountCompactor})
 * and then the HTTP server, so /health answers at
 * once and searches answer 503 {@code index_not_ready} until the index is live. {@link #close}
 * stops everything it started, in reverse order.
 */
public final class QueryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueryServer.class);

    private final QueryServerOptions options;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private Database database;
    private Javalin app;
    private Path spoolDir;
    private boolean closed; // guarded by this

    private QueryServer(QueryServerOptions options) {
        this.options = options;
    }

    /** Starts a server; on failure, whatever had started is stopped again. */
    public static QueryServer start(QueryServerOptions options) throws Exception {
        QueryServer server = new QueryServer(options);
        try {
            server.startAll();
            return server;
        } catch (Exception | Error e) {
            try {
                server.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void startAll() throws Exception {
        QueryServerOptions.Services services = options.services();
        QueryServerOptions.Limits limits = options.limits();
        ApiConfig api = options.api();
        database = own(new Database(services.postgres().jdbcUrl(), services.postgres().user(),
                services.postgres().password(), 16, options.dbTimeouts()));
        SchemaMigrations.migrate(database.pool());

        int cores = Runtime.getRuntime().availableProcessors();
        int modelThreads = options.effectiveEmbedThreads();
        Embedder embedder = own(Embedder.load(services.model().description(), EmbedderOptions.builder()
                .device(options.images().device())
                .batchSize(api.queryBatchSize())
                .intraOpThreads(options.effectiveIntraOpThreads(cores))
                .modelCacheDir(services.model().cacheDir())
                .build()));
        if (!embedder.modelId().equals(services.model().modelId())) {
            throw new IllegalStateException("the model loaded as " + embedder.modelId() + ", not as the configured "
                    + services.model().modelId());
        }
        QueryEmbedder queryEmbedder = own(new QueryEmbedder(embedder, modelThreads, api.queryBatchSize()));
        String modelId = embedder.modelId().value();

        VectorStore store = new VectorStore(database.pool(), modelId);
        IndexManager index = own(new IndexManager(database, store, IndexManager.Settings.of(options.faiss().indexType(),
                options.faiss().indexPath(), embedder.dimension(), options.indexRefresh().interval())).start());
        long maxUploadSize = options.search().maxUploadSize();
        UploadPublisher publisher = services.kafkaBootstrapServers() == null ? null
                : own(new UploadPublisher(services.kafkaBootstrapServers(), options.uploadsTopic(), maxUploadSize,
                        Duration.ofSeconds(Math.min(30, limits.requestTimeout().toSeconds()))));
        Catalog catalog = new Catalog(database.pool(), modelId);
        // Every replica sweeps; the sweep's one statement cannot mark an upload twice.
        own(new QueuedUploadSweeper(database.pool(), QueuedUploadSweeper.Deadlines.of(options.uploads())).start());
        // Every replica compacts too; compactions at once lose and double nothing (schema V5).
        own(new CountCompactor(database.pool(), CountCompactor.Settings.defaults()).start());

        // A directory of its own, so that replicas can share REQUEST_SPOOL_DIR and close can delete it whole.
        spoolDir = Files.createTempDirectory(Files.createDirectories(api.requestSpoolDir()), "imsrc-requests");
        // One budget for the whole process: in `start` the ingest job decodes in this JVM too.
        DecodeBudget.shared().setCapacity(options.images().decodeBudgetPixels());
        ImageDecodeOptions decodeOptions = new ImageDecodeOptions(options.images().maxImagePixels(),
                DecodeBudget.shared(), limits.decodeWait());
        RequestImages uploads = new RequestImages(spoolDir, maxUploadSize, limits.maxFilesPerUpload(), decodeOptions);
        RequestImages queries = new RequestImages(spoolDir, maxUploadSize, 1, decodeOptions);

        HttpMetrics metrics = new HttpMetrics(index, new IndexLag(index, store), queryEmbedder);
        // /status reads the services' reachability from here instead of asking them per request.
        ServiceProbes probes = own(new ServiceProbes(database.pool(), publisher == null ? null : publisher::reachable)
                .start());
        OpsApi ops = new OpsApi(index, store, catalog, probes, queryEmbedder, new OpsApi.Model(modelId,
                embedder.description().name(), embedder.dimension(), embedder.deviceName(), modelThreads,
                api.queryBatchSize()), metrics, services.flinkDashboardUrl());
        VectorSearch vectorSearch = own(new VectorSearch(options.search().effectiveSearchThreads()));
        SearchApi search = new SearchApi(index, vectorSearch, queryEmbedder, embedder.description(), catalog, queries,
                new SearchParameters(options.search().defaultLimit(), options.search().useProtoFiltering()), metrics,
                limits.requestTimeout());
        ImageApi images = new ImageApi(catalog, index, publisher, uploads, metrics, api.searchRequiresToken());

        app = ApiServer.create(api, new ApiServer.Endpoints(search, images, ops, metrics));
        app.start(api.host(), api.port());
        warnIfWritesAreOpen();
        LOG.info("Query server listening on http://{}:{} (model {}, index {}; API docs at /docs)", api.host(),
                port(), modelId, options.faiss().indexType().configValue());
    }

    /**
     * Uploads and /admin are open without API_TOKEN: fine on the loopback address, where only this
     * machine reaches them, not on an address others can reach.
     */
    private void warnIfWritesAreOpen() {
        if (options.api().token() != null || isLoopback(options.api().host())) {
            return;
        }
        LOG.warn("The API listens on {} without API_TOKEN: anyone who can reach this address can upload images and "
                + "rebuild the index (POST /upload, /admin/*). Set API_TOKEN, or API_HOST=127.0.0.1 to serve this "
                + "machine only.", options.api().host());
    }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        started.push(resource);
        return resource;
    }

    /** The port the server listens on (the chosen one when the options said 0). */
    public int port() {
        return app.port();
    }

    /** Stops what was started, in reverse order; idempotent, and safe from a shutdown hook. */
    @Override
    public synchronized void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> newestFirst = new ArrayList<>();
        if (app != null) {
            newestFirst.add(app::stop);
        }
        newestFirst.addAll(started);
        started.clear();
        try {
            Closeables.closeAll(newestFirst);
        } finally {
            deleteSpool();
        }
    }

    private void deleteSpool() {
        if (spoolDir != null) {
            try {
                FileTrees.deleteRecursively(spoolDir);
            } catch (IOException e) {
                LOG.warn("Could not delete {}: {}", spoolDir, e.toString());
            }
        }
    }
}
