package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;
import java.util.List;

/**
 * The answer to a search.
 *
 * @param results best first; ties by image id, so pages do not overlap
 * @param predictedCategory the model's class for the query when the model has a classifier head,
 *     else the category with the most similar prototype
 * @param predictionConfidence the classifier's probability of that class, or null
 * @param categoryRanking every candidate category by prototype similarity, best first
 * @param searchedCategories the categories whose images were searched
 * @param usedPrototypes whether the first stage chose the categories
 * @param nextOffset the offset of the next page, or null when this is the last
 * @param queryImageId the id of the query image (its content hash), whether or not it is stored
 */
@OpenApiDescription("Search results with the category ranking and timings")
public record SearchResponse(
        List<SearchResult> results,
        String predictedCategory,
        Double predictionConfidence,
        List<CategorySimilarity> categoryRanking,
        List<String> searchedCategories,
        boolean usedPrototypes,
        int limit,
        int offset,
        Integer nextOffset,
        long queryImageId,
        String modelId,
        String indexType,
        long indexSize,
        SearchTimings timings) {}
