package io.imsrc.query.search;

import io.imsrc.common.faiss.FaissThreads;
import io.imsrc.common.faiss.SearchResult;
import io.imsrc.query.index.CategoryIndex;
import io.imsrc.query.index.IndexSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The two search stages over one generation of the indexes: rank the categories by prototype
 * ({@link CategoryRanking}), then search the images of the chosen ones only and merge their hits.
 *
 * <p>Every category's index is asked for {@code offset + limit} hits (one more when an image is
 * excluded), so merging them gives the exact page a search of the union would: the top hits of a
 * union are among the top hits of each part. Ties break by image id, so pages do not overlap.
 *
 * <p>Thread-safe and stateless. FAISS runs one OpenMP thread per searching thread: on a few cores,
 * HTTP threads searching in parallel beat one search spread over threads (docs/benchmarks.md).
 */
public final class VectorSearch {

    private static final ThreadLocal<Boolean> SINGLE_THREADED = ThreadLocal.withInitial(() -> {
        FaissThreads.setNumThreads(1);
        return Boolean.TRUE;
    });

    private static final Comparator<Hit> BEST_FIRST =
            Comparator.comparingDouble(Hit::similarity).reversed().thenComparingLong(Hit::imageId);

    private VectorSearch() {}

    /**
     * @param query a unit vector of the index's dimension
     */
    public static SearchOutcome search(IndexSnapshot snapshot, float[] query, SearchRequest request) {
        SINGLE_THREADED.get();
        long start = System.nanoTime();
        List<CategoryScore> ranking = List.of();
        List<String> chosen;
        if (request.usePrototypes()) {
            ranking = CategoryRanking.rank(query, snapshot.prototypes(), request.categories());
            chosen = ranking.stream().limit(request.topCategories()).map(CategoryScore::category).toList();
        } else {
            Set<String> all = snapshot.categoryNames();
            chosen = (request.categories().isEmpty() ? all : request.categories()).stream()
                    .filter(all::contains).sorted().toList();
        }
        long ranked = System.nanoTime();
        List<Hit> hits = searchWithinCategories(snapshot, query, chosen, request);
        long searched = System.nanoTime();
        return new SearchOutcome(page(hits, request), ranking, chosen, ranked - start, searched - ranked);
    }

    /** The second stage: every chosen category's best {@code offset + limit} hits, merged. */
    static List<Hit> searchWithinCategories(IndexSnapshot snapshot, float[] query, List<String> categories,
            SearchRequest request) {
        int k = request.offset() + request.limit() + (request.excludeImageId() != 0 ? 1 : 0);
        List<Hit> hits = new ArrayList<>();
        for (String category : categories) {
            CategoryIndex index = snapshot.category(category);
            if (index == null) {
                continue; // a prototype without images of this model yet
            }
            SearchResult result = index.search(query, k);
            for (int r = 0, n = result.count(0); r < n; r++) {
                hits.add(new Hit(result.id(0, r), category, Cosine.clamp(result.score(0, r))));
            }
        }
        return hits;
    }

    /** Best first; without the excluded image and those under the threshold; the requested page. */
    static List<Hit> page(List<Hit> hits, SearchRequest request) {
        return hits.stream()
                .filter(h -> h.imageId() != request.excludeImageId() && h.similarity() >= request.minSimilarity())
                .sorted(BEST_FIRST)
                .skip(request.offset())
                .limit(request.limit())
                .toList();
    }
}
