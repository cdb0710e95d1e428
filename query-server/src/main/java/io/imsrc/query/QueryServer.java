package io.imsrc.query;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.io.Closeables;
import io.imsrc.query.http.Access;
import io.imsrc.query.http.ApiDocument;
import io.imsrc.query.http.ApiJson;
import io.imsrc.query.http.BodyDeadline;
import io.imsrc.query.http.BrowserOrigins;
import io.imsrc.query.http.HttpMetrics;
import io.imsrc.query.http.ImageApi;
import io.imsrc.query.http.OpsApi;
import io.imsrc.query.http.RequestHardening;
import io.imsrc.query.http.RequestImages;
import io.imsrc.query.http.SearchApi;
import io.imsrc.query.http.SearchParameters;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.search.QueryEmbedder;
import io.imsrc.query.store.Catalog;
import io.imsrc.query.store.Database;
import io.imsrc.query.store.VectorStore;
import io.imsrc.query.upload.QueuedUploadSweeper;
import io.imsrc.query.upload.UploadPublisher;
import io.javalin.Javalin;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.javalin.openapi.plugin.OpenApiPlugin;
import io.javalin.openapi.plugin.swagger.SwaggerPlugin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query server: the HTTP API over a live FAISS index kept in step with PostgreSQL, with
 * uploads published to Kafka for the ingest job.
 *
 * <p>{@link #start} migrates the schema, loads the model, starts the index manager (which loads the
 * saved index or builds one in the background), the sweep that gives up on uploads left queued
 * ({@link QueuedUploadSweeper}) and then the HTTP server, so /health answers at
 * once and searches answer 503 {@code index_not_ready} until the index is live. {@link #close}
 * stops everything it started, in reverse order.
 */
public final class QueryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueryServer.class);

    private final QueryServerOptions options;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private Database database;
    private Embedder embedder;
    private QueryEmbedder queryEmbedder;
    private IndexManager index;
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
        database = own(new Database(options.jdbcUrl(), options.dbUser(), options.dbPassword(), 16,
                options.dbTimeouts()));
        SchemaMigrations.migrate(database.pool());

        int cores = Runtime.getRuntime().availableProcessors();
        int modelThreads = options.effectiveEmbedThreads();
        embedder = own(Embedder.load(options.model().description(), EmbedderOptions.builder()
                .device(options.device())
                .batchSize(options.queryBatchSize())
                .intraOpThreads(Math.max(1, cores / modelThreads))
                .modelCacheDir(options.model().cacheDir())
                .build()));
        if (!embedder.modelId().equals(options.model().modelId())) {
            throw new IllegalStateException("the model loaded as " + embedder.modelId() + ", not as the configured "
                    + options.model().modelId());
        }
        queryEmbedder = own(new QueryEmbedder(embedder, modelThreads, options.queryBatchSize()));
        String modelId = embedder.modelId().value();

        VectorStore store = new VectorStore(database.pool(), modelId);
        index = own(new IndexManager(database, store, IndexManager.Settings.of(options.indexType(),
                options.indexPath(), embedder.dimension(), options.refreshInterval())).start());
        UploadPublisher publisher = options.kafkaBootstrapServers() == null ? null
                : own(new UploadPublisher(options.kafkaBootstrapServers(), options.uploadsTopic(),
                        options.maxUploadSize(), Duration.ofSeconds(Math.min(30, options.requestTimeout().toSeconds()))));
        Catalog catalog = new Catalog(database.pool(), modelId);
        // Every replica sweeps; the sweep's one statement cannot mark an upload twice.
        own(new QueuedUploadSweeper(database.pool(), options.uploadDeadlines()).start());

        spoolDir = Files.createTempDirectory("imsrc-requests");
        // One budget for the whole process: in `start` the ingest job decodes in this JVM too.
        DecodeBudget.shared().setCapacity(options.decodeBudgetPixels());
        ImageDecodeOptions decodeOptions = new ImageDecodeOptions(options.maxImagePixels(), DecodeBudget.shared(),
                options.decodeWait());
        RequestImages uploads = new RequestImages(spoolDir, options.maxUploadSize(), options.maxFilesPerUpload(),
                decodeOptions);
        RequestImages queries = new RequestImages(spoolDir, options.maxUploadSize(), 1, decodeOptions);

        OpsApi[] ops = new OpsApi[1];
        HttpMetrics metrics = new HttpMetrics(index, queryEmbedder, () -> ops[0].lagSeconds());
        ops[0] = new OpsApi(index, store, catalog, publisher, queryEmbedder, new OpsApi.Model(modelId,
                embedder.description().name(), embedder.dimension(), embedder.deviceName(), modelThreads,
                options.queryBatchSize()), metrics, options.flinkDashboardUrl());
        SearchApi search = new SearchApi(index, queryEmbedder, embedder.description(), catalog, queries,
                new SearchParameters(options.defaultLimit(), options.usePrototypes()), metrics,
                options.requestTimeout());
        ImageApi images = new ImageApi(catalog, index, publisher, uploads, metrics, options.searchRequiresToken());
        BodyDeadline bodyDeadline = new BodyDeadline(options.requestBodyTimeout());
        BrowserOrigins origins = new BrowserOrigins(options.allowedOrigins());

        Map<String, Access> routes = new ConcurrentHashMap<>();
        app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            RequestHardening.configure(config);
            config.jsonMapper(new JavalinJackson(ApiJson.mapper(), false));
            config.http.prefer405over404 = true;
            config.registerPlugin(new OpenApiPlugin(openApi -> openApi
                    .withDocumentationPath("/openapi")
                    .withDefinitionConfiguration((version, definition) -> definition
                            .withInfo(info -> {
                                info.setTitle("imsrc");
                                info.setVersion(QueryServer.class.getPackage().getImplementationVersion() == null
                                        ? "dev" : QueryServer.class.getPackage().getImplementationVersion());
                                info.setDescription("Image similarity search: upload images, search by image in two "
                                        + "stages (categories by prototype, then images within the best ones). "
                                        + "Similarities are cosines in [-1, 1]. Errors are {\"error\": code, "
                                        + "\"detail\": text}.");
                            })
                            .withSecurity(security -> security.withBearerAuth())
                            .withDefinitionProcessor(document -> ApiDocument.complete(ApiJson.snakeCaseSchemas(document), routes,
                                    options.searchRequiresToken()).toPrettyString()))));
            // The web page: static files from the class path, nothing fetched from elsewhere.
            config.staticFiles.add(files -> {
                files.hostedPath = "/app";
                files.directory = "/io/imsrc/query/app";
                files.location = Location.CLASSPATH;
                files.headers = Map.of(
                        "Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; "
                                + "style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'",
                        "X-Content-Type-Options", "nosniff",
                        "Cache-Control", "no-cache");
            });
            config.registerPlugin(new SwaggerPlugin(swagger -> {
                swagger.setUiPath("/docs");
                swagger.setDocumentationPath("/openapi");
                swagger.setTitle("imsrc API");
                swagger.setValidatorUrl(null); // nothing is fetched from outside
            }));
        });
        RequestHardening.install(app, bodyDeadline, origins, metrics::started,
                ctx -> Access.check(ctx, options.apiToken(), options.searchRequiresToken()), metrics::finished);

        route(routes, HandlerType.GET, "/", ctx -> ctx.redirect("/app/"), Access.OPEN);
        route(routes, HandlerType.POST, "/upload", images::upload, Access.WRITE);
        route(routes, HandlerType.GET, "/images/{id}", images::image, Access.READ);
        route(routes, HandlerType.GET, "/images/{id}/content", images::content, Access.READ);
        route(routes, HandlerType.GET, "/images/{id}/similar", search::similar, Access.READ);
        route(routes, HandlerType.POST, "/search", search::search, Access.READ);
        route(routes, HandlerType.POST, "/search/prototypes", search::prototypes, Access.READ);
        route(routes, HandlerType.GET, "/categories", search::categories, Access.READ);
        route(routes, HandlerType.GET, "/status", ops[0]::status, Access.READ);
        route(routes, HandlerType.GET, "/health", ops[0]::health, Access.OPEN);
        route(routes, HandlerType.GET, "/health/live", ops[0]::live, Access.OPEN);
        route(routes, HandlerType.GET, "/health/ready", ops[0]::ready, Access.OPEN);
        route(routes, HandlerType.GET, "/metrics", ops[0]::metrics, Access.OPEN);
        route(routes, HandlerType.POST, "/admin/reindex", ops[0]::reindex, Access.WRITE);

        app.start(options.host(), options.port());
        warnIfWritesAreOpen();
        LOG.info("Query server listening on http://{}:{} (model {}, index {}; API docs at /docs)", options.host(),
                port(), modelId, options.indexType().configValue());
    }

    /** Adds a route and notes its access for the API document ({@link ApiDocument}). */
    private void route(Map<String, Access> routes, HandlerType type, String path, Handler handler, Access access) {
        app.addHttpHandler(type, path, handler, access);
        routes.put(type.name() + " " + path, access);
    }

    /**
     * Uploads and /admin are open without API_TOKEN: fine on the loopback address, where only this
     * machine reaches them, not on an address others can reach.
     */
    private void warnIfWritesAreOpen() {
        if (options.apiToken() != null || isLoopback(options.host())) {
            return;
        }
        LOG.warn("The API listens on {} without API_TOKEN: anyone who can reach this address can upload images and "
                + "rebuild the index (POST /upload, /admin/*). Set API_TOKEN, or API_HOST=127.0.0.1 to serve this "
                + "machine only.", options.host());
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

    public IndexManager index() {
        return index;
    }

    public QueryEmbedder queryEmbedder() {
        return queryEmbedder;
    }

    public QueryServerOptions options() {
        return options;
    }

    /** Stops what was started, in reverse order; idempotent, and safe from a shutdown hook. */
    @Override
    public synchronized void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = app == null ? null : Closeables.close(app::stop, null);
        while (!started.isEmpty()) {
            failure = Closeables.close(started.pop(), failure);
        }
        if (spoolDir != null) {
            try (Stream<Path> files = Files.walk(spoolDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                LOG.warn("Could not delete {}: {}", spoolDir, e.toString());
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The directory large request parts are spooled to while a request runs. */
    Path spoolDir() {
        return spoolDir;
    }
}
