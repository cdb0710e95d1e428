package io.imsrc.query.http;

import io.imsrc.query.index.IndexLag;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.search.QueryEmbedder;
import io.javalin.http.Context;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.DoubleSupplier;

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one JVM, as in the
 * tests, do not share counters): requests and their latency per endpoint, and the index's size,
 * readiness and lag, read when scraped; beside them the Prometheus Java client's standard JVM and
 * process metrics ({@code jvm_*}, {@code process_*}).
 *
 * <p>Endpoints are labelled by their route ({@code /images/{id}}), never by the path a client
 * sent, so an id or an unknown path cannot create new series; a request no route matched is
 * labelled {@code unmatched}.
 */
public final class HttpMetrics {

    private static final String REQUEST_START = "imsrc.requestStartNanos";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter requests;
    private final Histogram latency;
    private final Counter searches;
    private final Counter uploads;

    public HttpMetrics(IndexManager index, IndexLag lag, QueryEmbedder embedder) {
        // The JVM's and the process's standard metrics (memory pools, GC, threads, class loading,
        // CPU time, resident memory, open files), as every Java service exports them.
        JvmMetrics.builder().register(registry);
        requests = Counter.builder()
                .name("imsrc_http_requests_total")
                .help("HTTP requests answered, by method, route and status")
                .labelNames("method", "route", "status")
                .register(registry);
        latency = Histogram.builder()
                .name("imsrc_http_request_duration_seconds")
                .help("Time from the request's arrival to its answer, by method and route")
                .labelNames("method", "route")
                .classicOnly()
                .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
                .register(registry);
        searches = Counter.builder()
                .name("imsrc_searches_total")
                .help("Searches answered, by whether the prototype stage chose the categories")
                .labelNames("prototypes")
                .register(registry);
        uploads = Counter.builder()
                .name("imsrc_uploads_total")
                .help("Images accepted by POST /upload, by outcome: queued (published) or stored (known already)")
                .labelNames("outcome")
                .register(registry);
        gauge("imsrc_index_ready", "1 when an index is loaded and searches are answered",
                () -> index.isReady() ? 1 : 0);
        gauge("imsrc_index_vectors", "Vectors the live index holds", () -> index.status().vectors());
        gauge("imsrc_index_categories", "Categories the live index holds", () -> index.status().categories());
        gauge("imsrc_index_refresh_age_seconds", "Seconds since the index manager last read PostgreSQL", () -> {
            long last = index.status().lastRefreshMillis();
            return last == 0 ? Double.NaN : (System.currentTimeMillis() - last) / 1000.0;
        });
        gauge("imsrc_index_lag_seconds",
                "Commit time of the newest vector in PostgreSQL minus that of the newest searchable one", lag::seconds);
        gauge("imsrc_index_rebuilding", "1 while a full rebuild runs beside the live index",
                () -> index.status().rebuilding() ? 1 : 0);
        gauge("imsrc_query_embed_batch_mean", "Queries per forward pass so far (above 1 when coalescing pays)",
                embedder::meanBatchSize);
    }

    private void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .callback(callback -> callback.call(value.getAsDouble()))
                .register(registry);
    }

    /** Marks the arrival of a request; call first. */
    public void started(Context ctx) {
        ctx.attribute(REQUEST_START, System.nanoTime());
    }

    /** Counts an answered request; call last. */
    public void finished(Context ctx) {
        Long start = ctx.attribute(REQUEST_START);
        String route = ctx.endpointHandlerPath();
        if (route == null || !route.startsWith("/")) { // "No handler matched ..." for a 404 or 405
            route = "unmatched";
        }
        String method = ctx.method().name();
        requests.labelValues(method, route, Integer.toString(ctx.statusCode())).inc();
        if (start != null) {
            latency.labelValues(method, route).observe((System.nanoTime() - start) / 1e9);
        }
    }

    public void searched(boolean usedPrototypes) {
        searches.labelValues(Boolean.toString(usedPrototypes)).inc();
    }

    public void uploaded(String outcome, int count) {
        uploads.labelValues(outcome).inc(count);
    }

    /** Every metric in Prometheus's text format. */
    public byte[] scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        writer.write(out, registry.scrape());
        return out.toByteArray();
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
