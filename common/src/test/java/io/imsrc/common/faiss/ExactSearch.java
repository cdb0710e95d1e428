package io.imsrc.common.faiss;

import java.util.Arrays;
import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The oracle: an exhaustive top-k search written plainly in Java, in double precision,
 * that the FAISS results are checked against.
 */
final class ExactSearch {
    /** Query {@code q}'s hits, best first. */
    final long[][] ids;

    final double[][] scores;

    private ExactSearch(long[][] ids, double[][] scores) {
        this.ids = ids;
        this.scores = scores;
    }

    static ExactSearch topK(float[] base, long[] baseIds, float[] queries, int d, int k, Metric metric) {
        int n = base.length / d;
        int nq = queries.length / d;
        long[][] ids = new long[nq][];
        double[][] scores = new double[nq][];
        for (int q = 0; q < nq; q++) {
            // A heap of the k best so far, worst on top.
            PriorityQueue<double[]> best = new PriorityQueue<>((a, b) -> Double.compare(
                    closeness(a[0], metric), closeness(b[0], metric)));
            for (int i = 0; i < n; i++) {
                double score = score(base, i, queries, q, d, metric);
                if (best.size() < k) {
                    best.add(new double[] {score, i});
                } else if (closeness(score, metric) > closeness(best.peek()[0], metric)) {
                    best.poll();
                    best.add(new double[] {score, i});
                }
            }
            double[][] sorted = best.toArray(new double[0][]);
            Arrays.sort(sorted, (a, b) -> Double.compare(closeness(b[0], metric), closeness(a[0], metric)));
            ids[q] = Arrays.stream(sorted).mapToLong(e -> baseIds[(int) e[1]]).toArray();
            scores[q] = Arrays.stream(sorted).mapToDouble(e -> e[0]).toArray();
        }
        return new ExactSearch(ids, scores);
    }

    /** The fraction of the exact top-k ids that {@code result} also returns. */
    double recall(SearchResult result) {
        int found = 0;
        int total = 0;
        for (int q = 0; q < ids.length; q++) {
            Set<Long> exact = new HashSet<>();
            for (long id : ids[q]) {
                exact.add(id);
            }
            for (long id : result.ids(q)) {
                if (exact.contains(id)) {
                    found++;
                }
            }
            total += ids[q].length;
        }
        return (double) found / total;
    }

    private static double score(float[] base, int i, float[] queries, int q, int d, Metric metric) {
        double sum = 0;
        for (int j = 0; j < d; j++) {
            double x = base[i * d + j];
            double y = queries[q * d + j];
            sum += metric == Metric.INNER_PRODUCT ? x * y : (x - y) * (x - y);
        }
        return sum;
    }

    /** Larger is better, whatever the metric. */
    private static double closeness(double score, Metric metric) {
        return metric.higherIsCloser() ? score : -score;
    }
}
