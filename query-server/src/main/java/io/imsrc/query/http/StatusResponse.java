package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;
import java.util.Map;

/**
 * What GET /status reports: the counts, the index and its lag, the model, the services, and the
 * Flink dashboard that shows the ingest job (null when the server was not told of one).
 */
@OpenApiDescription("Counts, index state and lag, model, and whether the services answer")
public record StatusResponse(
        Counts counts, IndexInfo index, ModelInfo model, Services services, double uptimeSeconds,
        String flinkDashboardUrl) {

    /**
     * Counts in PostgreSQL (null when it cannot be reached).
     *
     * @param vectors vectors of the server's model
     * @param uploads uploads by state: queued, indexed, rejected
     */
    @OpenApiDescription("Counts in PostgreSQL")
    public record Counts(long images, long vectors, long deadLetters, Map<String, Long> uploads) {}

    /**
     * The live index.
     *
     * @param vectors vectors the index holds
     * @param lastRefresh when the index manager last read PostgreSQL
     * @param newestVectorSeq the newest vector of the model in PostgreSQL (its vector_seq)
     * @param newestSearchableSeq the newest one the index holds
     * @param lagSeconds the commit time of the newest vector in PostgreSQL minus that of the
     *     newest searchable one: 0 when the index is caught up
     * @param vectorsBehind vectors in PostgreSQL the index does not hold yet
     */
    @OpenApiDescription("The live index, its refreshes and its lag behind PostgreSQL")
    public record IndexInfo(
            boolean ready, String type, int categories, long vectors, String builtAt, String lastRefresh,
            String lastSave, boolean rebuilding, Long newestVectorSeq, long newestSearchableSeq, Double lagSeconds,
            Long vectorsBehind, int pendingHoles, String lastError) {}

    /**
     * @param meanQueryBatch queries per forward pass so far (above 1 when coalescing pays)
     */
    @OpenApiDescription("The model queries are embedded with")
    public record ModelInfo(
            String modelId, String name, int dimension, String device, int embedThreads, int queryBatchSize,
            double meanQueryBatch) {}

    @OpenApiDescription("Whether PostgreSQL and Kafka answer")
    public record Services(Service postgres, Service kafka) {}

    /** @param configured false when the server runs without it (Kafka: no uploads) */
    @OpenApiDescription("One service")
    public record Service(boolean configured, boolean reachable, String detail) {}
}
