package io.imsrc.common.faiss;

import java.util.Arrays;
import java.util.Objects;

/**
 * The exact {@code k} nearest neighbours, by inner product, of a fixed set of queries among vectors
 * that arrive chunk by chunk: each {@link #offer}ed chunk is searched with FAISS's exact flat
 * search (a matrix product through BLAS for 20 queries or more) and its hits merged into the best
 * so far, so the vectors need not be held together anywhere.
 *
 * <p>Why: an IVF build calibrates its search against the exact neighbours of a hundred of its own
 * vectors. Asking the finished IVF index with every list probed scans the lists one query at a
 * time: about 0.2 s for a category of 100,000 64-d vectors in a build on the 2-core machine; the
 * same answers from the chunks as they stream past took 72-80 ms (docs/benchmarks.md,
 * "Calibration from the stream").
 *
 * <p>A hit already kept stays ahead of an equal score offered later; within one chunk FAISS orders
 * equal scores. A large offer is searched {@value #SLICE} rows at a time, so the native copy it
 * makes stays small. Searches run on one OpenMP thread of the calling thread (restored afterwards),
 * for the reason {@link TwoLevelKMeans} gives. Not thread-safe.
 */
public final class ExactNeighbours {
    /** Rows searched at once: 4 MB of 64-d floats in FAISS's copy. */
    static final int SLICE = 16_384;

    private final float[] queries;
    private final int dimension;
    private final int queryCount;
    private final int k;
    private final long[] ids;
    private final float[] scores;

    /**
     * @param queries {@code queries.length / dimension} rows, row-major; copied
     * @param k neighbours kept per query
     */
    public ExactNeighbours(float[] queries, int dimension, int k) {
        Objects.requireNonNull(queries, "queries");
        if (dimension < 1 || queries.length % dimension != 0) {
            throw new IllegalArgumentException("the queries must be rows of " + dimension + " values");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        this.queries = queries.clone();
        this.dimension = dimension;
        this.queryCount = queries.length / dimension;
        this.k = k;
        this.ids = new long[queryCount * k];
        this.scores = new float[queryCount * k];
        Arrays.fill(ids, SearchResult.NO_ID);
        Arrays.fill(scores, Float.NEGATIVE_INFINITY);
    }

    /**
     * Takes one chunk into account.
     *
     * @param vectors {@code vectorIds.length} rows of the dimension, row-major
     * @param vectorIds the id each row is known by
     */
    public void offer(float[] vectors, long[] vectorIds) {
        Objects.requireNonNull(vectors, "vectors");
        Objects.requireNonNull(vectorIds, "vectorIds");
        if (vectors.length != vectorIds.length * dimension) {
            throw new IllegalArgumentException("got " + vectors.length + " values for " + vectorIds.length
                    + " ids of " + dimension + " dimensions");
        }
        if (vectorIds.length == 0 || queryCount == 0) {
            return;
        }
        if (vectorIds.length > SLICE) {
            for (int from = 0; from < vectorIds.length; from += SLICE) {
                int to = Math.min(vectorIds.length, from + SLICE);
                offer(Arrays.copyOfRange(vectors, from * dimension, to * dimension), Arrays.copyOfRange(vectorIds, from, to));
            }
            return;
        }
        int wanted = Math.min(k, vectorIds.length);
        SearchResult chunk = FaissThreads.onOneThread(() -> {
            try (FaissIndex flat = FaissIndex.create(dimension, "Flat", Metric.INNER_PRODUCT)) {
                flat.add(vectors);
                return flat.search(queries, wanted);
            }
        });
        long[] mergedIds = new long[k];
        float[] mergedScores = new float[k];
        for (int q = 0; q < queryCount; q++) {
            merge(q, chunk, wanted, vectorIds, mergedIds, mergedScores);
        }
    }

    /** Merges query {@code q}'s hits in {@code chunk} (positions in the chunk) into its best so far. */
    private void merge(int q, SearchResult chunk, int wanted, long[] vectorIds, long[] mergedIds, float[] mergedScores) {
        int row = q * k;
        int kept = 0;
        int fresh = 0;
        for (int out = 0; out < k; out++) {
            boolean freshLeft = fresh < wanted && chunk.id(q, fresh) != SearchResult.NO_ID;
            boolean keptLeft = kept < k && ids[row + kept] != SearchResult.NO_ID;
            if (freshLeft && (!keptLeft || chunk.score(q, fresh) > scores[row + kept])) {
                mergedIds[out] = vectorIds[(int) chunk.id(q, fresh)];
                mergedScores[out] = chunk.score(q, fresh);
                fresh++;
            } else if (keptLeft) {
                mergedIds[out] = ids[row + kept];
                mergedScores[out] = scores[row + kept];
                kept++;
            } else {
                mergedIds[out] = SearchResult.NO_ID;
                mergedScores[out] = Float.NEGATIVE_INFINITY;
            }
        }
        System.arraycopy(mergedIds, 0, ids, row, k);
        System.arraycopy(mergedScores, 0, scores, row, k);
    }

    /**
     * The {@code k} best of everything offered so far for each query, best first, in FAISS's layout
     * ({@link SearchResult#NO_ID} where fewer were offered); a copy.
     */
    public SearchResult result() {
        return new SearchResult(queryCount, k, ids.clone(), scores.clone());
    }
}
