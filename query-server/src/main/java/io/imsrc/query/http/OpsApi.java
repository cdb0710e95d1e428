package io.imsrc.query.http;

import io.imsrc.common.io.Futures;
import io.imsrc.query.health.HealthCheck;
import io.imsrc.query.health.ServiceProbes;
import io.imsrc.query.index.IndexLag;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.search.QueryEmbedder;
import io.imsrc.query.store.Catalog;
import io.imsrc.query.store.VectorStore;
import io.javalin.http.Context;
import io.javalin.openapi.HttpMethod;
import io.javalin.openapi.OpenApi;
import io.javalin.openapi.OpenApiContent;
import io.javalin.openapi.OpenApiParam;
import io.javalin.openapi.OpenApiResponse;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Running the server: GET /status, /health (and /health/live, /health/ready), /metrics, POST /admin/reindex. */
public final class OpsApi {

    private static final String ERROR = "application/json";

    /** What /status says about the model, fixed once it is loaded. */
    public record Model(String modelId, String name, int dimension, String device, int embedThreads,
            int queryBatchSize) {}

    private final IndexManager index;
    private final VectorStore store;
    private final Catalog catalog;
    private final ServiceProbes probes;
    private final QueryEmbedder embedder;
    private final Model model;
    private final HttpMetrics metrics;
    private final long startedAtNanos = System.nanoTime();
    private final List<HealthCheck> healthChecks;
    private final String flinkDashboardUrl;

    public OpsApi(IndexManager index, VectorStore store, Catalog catalog, ServiceProbes probes, QueryEmbedder embedder,
            Model model, HttpMetrics metrics, String flinkDashboardUrl) {
        this.flinkDashboardUrl = flinkDashboardUrl;
        List<HealthCheck> checks = new ArrayList<>(index.healthChecks());
        checks.add(embedder.healthCheck());
        this.healthChecks = List.copyOf(checks);
        this.index = index;
        this.store = store;
        this.catalog = catalog;
        this.probes = probes;
        this.embedder = embedder;
        this.model = model;
        this.metrics = metrics;
    }

    @OpenApi(
            path = "/status",
            operationId = "status",
            tags = "operations",
            summary = "Counts, the index and its lag behind PostgreSQL, the model, and whether the services answer",
            description = "What the /app page polls: stored images and categories, the index's type, size and lag, "
                    + "the model, the Flink dashboard's address and whether PostgreSQL and Kafka answer.",
            responses = @OpenApiResponse(status = "200", content = @OpenApiContent(from = StatusResponse.class)))
    public void status(Context ctx) {
        IndexManager.Status s = index.status();
        StatusResponse.Counts counts = null;
        // Known away: answer at once from the probe instead of waiting on the pool's timeouts.
        String postgresProblem = probes.postgres().problem();
        Optional<VectorStore.Newest> newest = Optional.empty();
        if (postgresProblem == null) {
            try {
                Catalog.Counts c = catalog.counts();
                counts = new StatusResponse.Counts(c.images(), c.vectors(), c.deadLetters(), c.uploads());
                newest = store.newest();
            } catch (SQLException e) {
                postgresProblem = e.getMessage();
            }
        }
        Double lag = null;
        Long newestSeq = null;
        Long behind = null;
        if (counts != null) {
            newestSeq = newest.map(VectorStore.Newest::seq).orElse(0L);
            lag = s.ready() ? IndexLag.seconds(newest, s) : null;
            behind = s.ready() ? Math.max(0, counts.vectors() - s.vectors()) : counts.vectors();
        }
        StatusResponse.IndexInfo info = new StatusResponse.IndexInfo(s.ready(), s.indexType(), s.categories(),
                s.vectors(), instant(s.builtAtMillis()), instant(s.lastRefreshMillis()), instant(s.lastSaveMillis()),
                s.rebuilding(), newestSeq, s.newestSearchableSeq(), lag, behind, s.pendingHoles(), s.lastError());
        StatusResponse.ModelInfo modelInfo = new StatusResponse.ModelInfo(model.modelId(), model.name(),
                model.dimension(), model.device(), model.embedThreads(), model.queryBatchSize(),
                Math.round(embedder.meanBatchSize() * 1000) / 1000.0);
        ServiceProbes.Reading broker = probes.kafka();
        StatusResponse.Service kafka = broker == null
                ? new StatusResponse.Service(false, false, "not configured: uploads are off")
                : new StatusResponse.Service(true, broker.reachable(), broker.problem());
        StatusResponse.Service postgres = postgresProblem == null
                ? new StatusResponse.Service(true, true, null)
                : new StatusResponse.Service(true, false, postgresProblem);
        ctx.json(new StatusResponse(counts, info, modelInfo, new StatusResponse.Services(postgres, kafka),
                (System.nanoTime() - startedAtNanos) / 1e9, flinkDashboardUrl));
    }

    private static String instant(long millis) {
        return millis == 0 ? null : Instant.ofEpochMilli(millis).toString();
    }

    @OpenApi(
            path = "/health",
            operationId = "health",
            tags = "operations",
            summary = "Readiness, as /health/ready",
            description = "The same answer as /health/ready, for tools that look at /health.",
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = HealthResponse.class)),
                @OpenApiResponse(status = "503", content = @OpenApiContent(from = HealthResponse.class))
            })
    public void health(Context ctx) {
        ready(ctx);
    }

    @OpenApi(
            path = "/health/ready",
            operationId = "ready",
            tags = "operations",
            summary = "Readiness: 200 while an index is loaded and every background worker runs, 503 with the reason "
                    + "otherwise",
            description = "503 before the index is loaded, and while a background worker fails or has stopped: the "
                    + "index refresh (PostgreSQL away or failing), the LISTEN connection that hears of new vectors, a "
                    + "model thread. Searches are still answered from memory meanwhile where they can be. The body's "
                    + "checks say, per part, ok or why not. Never waits for PostgreSQL or Kafka.",
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = HealthResponse.class)),
                @OpenApiResponse(status = "503", content = @OpenApiContent(from = HealthResponse.class))
            })
    public void ready(Context ctx) {
        Map<String, String> checks = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (HealthCheck check : healthChecks) {
            Optional<String> problem = check.problem();
            checks.put(check.name(), problem.orElse("ok"));
            problem.ifPresent(p -> problems.add(check.name() + ": " + p));
        }
        if (problems.isEmpty()) {
            ctx.json(new HealthResponse("ok", true, true, null, checks));
        } else {
            ctx.status(503).json(new HealthResponse(index.isReady() ? "failing" : "starting", true, false,
                    String.join("; ", problems), checks));
        }
    }

    @OpenApi(
            path = "/health/live",
            operationId = "live",
            tags = "operations",
            summary = "Liveness: 200 while the server answers",
            description = "Always 200 while the process answers HTTP; status says whether the index is ready yet.",
            responses = @OpenApiResponse(status = "200", content = @OpenApiContent(from = HealthResponse.class)))
    public void live(Context ctx) {
        boolean ready = index.isReady();
        ctx.json(new HealthResponse(ready ? "ok" : "starting", true, ready, null, null));
    }

    @OpenApi(
            path = "/metrics",
            operationId = "metrics",
            tags = "operations",
            summary = "Prometheus metrics: requests and latency per endpoint, index size and lag, query batching",
            description = "The Prometheus text format, for a scraper.",
            responses = @OpenApiResponse(status = "200",
                    content = @OpenApiContent(mimeType = "text/plain", type = "string")))
    public void metrics(Context ctx) throws Exception {
        ctx.contentType(HttpMetrics.contentType());
        ctx.result(metrics.scrape());
    }

    @OpenApi(
            path = "/admin/reindex",
            methods = HttpMethod.POST,
            operationId = "reindex",
            tags = "operations",
            summary = "Rebuild the index from PostgreSQL beside the live one and swap it in",
            description = "Searches keep being answered from the live index while the new one is built. Answers 202 "
                    + "at once (follow it on GET /status), or with wait=true 200 when the new index is live. A request "
                    + "while a rebuild runs joins it. Needs the API token when API_TOKEN is set.",
            queryParams = @OpenApiParam(name = "wait", type = Boolean.class, description = "answer when the rebuild is done"),
            headers = @OpenApiParam(name = "Authorization", description = "Bearer <API_TOKEN>, when one is set"),
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = ReindexResponse.class)),
                @OpenApiResponse(status = "202", content = @OpenApiContent(from = ReindexResponse.class)),
                @OpenApiResponse(status = "400", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "401", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "503", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void reindex(Context ctx) throws InterruptedException {
        boolean wait = SearchParameters.bool(ctx, "wait", false);
        CompletableFuture<IndexManager.Status> rebuild = index.rebuild();
        if (!wait) {
            ctx.status(202).json(new ReindexResponse("rebuilding", index.status().indexType(), null, null));
            return;
        }
        try {
            IndexManager.Status done = rebuild.get(10, TimeUnit.MINUTES);
            ctx.json(new ReindexResponse("done", done.indexType(), done.vectors(), instant(done.builtAtMillis())));
        } catch (ExecutionException e) {
            throw ApiException.unavailable("reindex_failed", "the rebuild failed: " + Futures.cause(e).getMessage()
                    + "; the previous index stays live");
        } catch (TimeoutException e) {
            ctx.status(202).json(new ReindexResponse("rebuilding", index.status().indexType(), null, null));
        }
    }
}
