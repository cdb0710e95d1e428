package io.imsrc.query.http;

import io.imsrc.common.embed.Embedding;
import io.imsrc.query.index.IndexSnapshot;
import io.imsrc.query.index.Prototypes;
import io.imsrc.query.search.CategoryScore;
import io.imsrc.query.search.Cosine;
import io.imsrc.query.search.Hit;
import io.imsrc.query.search.SearchOutcome;
import io.imsrc.query.search.SearchRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The search endpoints' answers, built from what the search found by plain functions (no request,
 * no index to lease), so the shape of an answer is tested without a server.
 */
final class SearchAnswers {

    private SearchAnswers() {}

    /**
     * What the answer says about the index it came from.
     *
     * @param indexType the FAISS_INDEX_TYPE value
     * @param size the vectors the generation holds
     */
    record Generation(String modelId, String indexType, long size, Prototypes prototypes) {

        static Generation of(IndexSnapshot snapshot) {
            return new Generation(snapshot.modelId(), snapshot.type().configValue(), snapshot.size(),
                    snapshot.prototypes());
        }
    }

    /**
     * The answer to POST /search and GET /images/{id}/similar.
     *
     * @param ranking every candidate category by prototype, best first: the outcome's when the first
     *     stage ran, else ranked for the answer alone
     */
    static SearchResponse search(SearchRequest request, SearchOutcome outcome, Embedding query,
            List<CategoryScore> ranking, Generation index, long queryImageId, SearchTimings timings) {
        List<SearchResult> results = results(outcome.hits());
        return new SearchResponse(
                results,
                predicted(query, ranking),
                confidence(query),
                similarities(ranking, index.prototypes()),
                outcome.searched(),
                request.usePrototypes(),
                request.limit(),
                request.offset(),
                nextOffset(request, results.size()),
                queryImageId,
                index.modelId(),
                index.indexType(),
                index.size(),
                timings);
    }

    /** The answer to POST /search/prototypes. */
    static PrototypeSearchResponse prototypes(Embedding query, List<CategoryScore> ranking, Generation index,
            SearchTimings timings) {
        return new PrototypeSearchResponse(predicted(query, ranking), confidence(query),
                similarities(ranking, index.prototypes()), index.modelId(), timings);
    }

    static List<SearchResult> results(List<Hit> hits) {
        List<SearchResult> results = new ArrayList<>(hits.size());
        for (Hit hit : hits) {
            results.add(new SearchResult(hit.imageId(), hit.category(), hit.similarity(),
                    ImageApi.contentUrl(hit.imageId())));
        }
        return results;
    }

    /** The next page's offset while this page is full and the next one may still be asked for; else null. */
    static Integer nextOffset(SearchRequest request, int resultCount) {
        boolean full = resultCount == request.limit()
                && request.offset() + request.limit() <= SearchRequest.MAX_OFFSET;
        return full ? request.offset() + request.limit() : null;
    }

    /** The classifier's class when the model has one, else the category with the nearest prototype. */
    static String predicted(Embedding query, List<CategoryScore> ranking) {
        return query.prediction().orElse(ranking.isEmpty() ? null : ranking.get(0).category());
    }

    static Double confidence(Embedding query) {
        return query.prediction().isPresent() ? (double) query.confidence() : null;
    }

    static List<CategorySimilarity> similarities(List<CategoryScore> ranking, Prototypes prototypes) {
        List<CategorySimilarity> out = new ArrayList<>(ranking.size());
        for (CategoryScore score : ranking) {
            Prototypes.Entry entry = prototypes.get(score.category());
            out.add(new CategorySimilarity(score.category(), Cosine.clamp(score.similarity()),
                    entry == null ? 0 : entry.imageCount()));
        }
        return out;
    }

    /** The timings of a search: decoding, embedding, each stage, and all of it, from {@code start}. */
    static SearchTimings timings(long start, long decoded, long embedded, SearchOutcome outcome) {
        return new SearchTimings(ms(decoded - start), ms(embedded - decoded), ms(outcome.prototypeNanos()),
                ms(outcome.indexNanos()), ms(System.nanoTime() - start));
    }

    /** Milliseconds with microsecond precision. */
    static double ms(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
