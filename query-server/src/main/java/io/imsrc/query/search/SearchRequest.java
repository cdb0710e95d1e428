package io.imsrc.query.search;

import java.util.Objects;
import java.util.Set;

/**
 * What a search asks for, checked.
 *
 * @param limit results per page, 1-50
 * @param offset results to skip, for paging (stable: ties break by image id)
 * @param usePrototypes whether the first stage picks the categories to search by prototype
 * @param topCategories how many of the best-ranked categories the second stage searches, 1-10
 * @param minSimilarity the lowest cosine a result may have, in [-1, 1]
 * @param categories only these categories (empty: all)
 * @param excludeImageId an image to leave out (the query image of a "similar" search), 0 for none
 */
public record SearchRequest(
        int limit, int offset, boolean usePrototypes, int topCategories, double minSimilarity, Set<String> categories,
        long excludeImageId) {

    public static final int MAX_LIMIT = 50;
    public static final int MAX_TOP_CATEGORIES = 10;
    public static final int DEFAULT_TOP_CATEGORIES = 3;
    /** Deeper pages than this cost more than they are worth; the limit keeps a search bounded. */
    public static final int MAX_OFFSET = 10_000;

    public SearchRequest {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1-" + MAX_LIMIT + ", got " + limit);
        }
        if (offset < 0 || offset > MAX_OFFSET) {
            throw new IllegalArgumentException("offset must be 0-" + MAX_OFFSET + ", got " + offset);
        }
        if (topCategories < 1 || topCategories > MAX_TOP_CATEGORIES) {
            throw new IllegalArgumentException("top_categories must be 1-" + MAX_TOP_CATEGORIES + ", got " + topCategories);
        }
        if (!(minSimilarity >= -1 && minSimilarity <= 1)) {
            throw new IllegalArgumentException("min_similarity must be within [-1, 1], got " + minSimilarity);
        }
        categories = Set.copyOf(Objects.requireNonNull(categories, "categories"));
    }

    /** The defaults: {@code limit} results, prototype filtering as configured, three categories. */
    public static SearchRequest defaults(int limit, boolean usePrototypes) {
        return new SearchRequest(limit, 0, usePrototypes, DEFAULT_TOP_CATEGORIES, -1, Set.of(), 0);
    }

    public SearchRequest excluding(long imageId) {
        return new SearchRequest(limit, offset, usePrototypes, topCategories, minSimilarity, categories, imageId);
    }
}
