package io.imsrc.testing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * The oracle every search test checks against: an exhaustive search written plainly in Java, in
 * double precision, over row-major vectors. Ranked best first; equal scores by id, so the order is
 * total and a test can compare lists.
 */
public final class ExactSearch {

    private ExactSearch() {}

    /** How a query and a vector are compared. */
    public enum Measure {
        /** The dot product: the cosine similarity for unit vectors; larger is closer. */
        INNER_PRODUCT,
        /** The squared Euclidean distance; smaller is closer. */
        L2;

        double score(float[] base, int row, float[] query, int queryRow, int d) {
            double sum = 0;
            for (int j = 0; j < d; j++) {
                double x = base[row * d + j];
                double y = query[queryRow * d + j];
                sum += this == INNER_PRODUCT ? x * y : (x - y) * (x - y);
            }
            return sum;
        }

        double closeness(double score) {
            return this == INNER_PRODUCT ? score : -score;
        }
    }

    /** One ranked vector: its row in the base, its id and its score. */
    public record Hit(int row, long id, double score) {}

    /** Every row of {@code base} ranked against {@code query}, best first. */
    public static List<Hit> rank(float[] base, long[] ids, float[] query, Measure measure) {
        return rank(base, ids, query, 0, query.length, measure);
    }

    private static List<Hit> rank(float[] base, long[] ids, float[] queries, int q, int d, Measure measure) {
        List<Hit> hits = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            hits.add(new Hit(i, ids[i], measure.score(base, i, queries, q, d)));
        }
        hits.sort(Comparator.comparingDouble((Hit h) -> measure.closeness(h.score())).reversed()
                .thenComparingLong(Hit::id));
        return hits;
    }

    /** The exact top {@code k} of each row-major query: ids and scores, best first. */
    public record TopK(long[][] ids, double[][] scores) {

        /** The fraction of the exact top-k ids that the search also returns ({@code found.apply(q)} for query q). */
        public double recall(IntFunction<long[]> found) {
            int hits = 0;
            int total = 0;
            for (int q = 0; q < ids.length; q++) {
                Set<Long> exact = new HashSet<>();
                for (long id : ids[q]) {
                    exact.add(id);
                }
                for (long id : found.apply(q)) {
                    if (exact.contains(id)) {
                        hits++;
                    }
                }
                total += ids[q].length;
            }
            return (double) hits / total;
        }
    }

    public static TopK topK(float[] base, long[] ids, float[] queries, int d, int k, Measure measure) {
        int nq = queries.length / d;
        long[][] topIds = new long[nq][];
        double[][] topScores = new double[nq][];
        for (int q = 0; q < nq; q++) {
            List<Hit> best = rank(base, ids, queries, q, d, measure).subList(0, Math.min(k, ids.length));
            topIds[q] = best.stream().mapToLong(Hit::id).toArray();
            topScores[q] = best.stream().mapToDouble(Hit::score).toArray();
        }
        return new TopK(topIds, topScores);
    }
}
