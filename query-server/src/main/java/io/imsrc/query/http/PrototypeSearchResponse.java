package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;
import java.util.List;

/** The first search stage alone: every category ranked by the similarity of its prototype. */
@OpenApiDescription("Every category ranked by prototype similarity to the query")
public record PrototypeSearchResponse(
        String predictedCategory,
        Double predictionConfidence,
        List<CategorySimilarity> categories,
        String modelId,
        SearchTimings timings) {}
