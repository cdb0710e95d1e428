package io.imsrc.common.faiss;

import java.util.Arrays;

/**
 * The k nearest neighbours of each query of one batched search, in FAISS's layout: row
 * {@code q} of {@link #ids} and {@link #scores} holds query {@code q}'s hits, best first.
 *
 * <p>A score is the metric's value: the inner product (the cosine for unit vectors) for
 * {@link Metric#INNER_PRODUCT}, the squared distance for {@link Metric#L2}. When an index
 * holds fewer than k vectors reachable from a query (a small index, an IVF search whose
 * probed lists are short), FAISS fills the rest of the row with {@link #NO_ID}; {@link
 * #count(int)} says how many hits a row really has.
 */
public final class SearchResult {
    /** FAISS's label for "no neighbour here". */
    public static final long NO_ID = -1L;

    private final int queryCount;
    private final int k;
    private final long[] ids;
    private final float[] scores;

    SearchResult(int queryCount, int k, long[] ids, float[] scores) {
        this.queryCount = queryCount;
        this.k = k;
        this.ids = ids;
        this.scores = scores;
    }

    public int queryCount() {
        return queryCount;
    }

    public int k() {
        return k;
    }

    /** The ids of query {@code query}'s hits, best first, {@link #NO_ID} padded; a copy. */
    public long[] ids(int query) {
        int from = rowStart(query);
        return Arrays.copyOfRange(ids, from, from + k);
    }

    /** The scores matching {@link #ids(int)}; a copy. */
    public float[] scores(int query) {
        int from = rowStart(query);
        return Arrays.copyOfRange(scores, from, from + k);
    }

    public long id(int query, int rank) {
        return ids[rowStart(query) + checkRank(rank)];
    }

    public float score(int query, int rank) {
        return scores[rowStart(query) + checkRank(rank)];
    }

    /** How many of query {@code query}'s k slots hold a real hit. */
    public int count(int query) {
        int from = rowStart(query);
        int n = 0;
        while (n < k && ids[from + n] != NO_ID) {
            n++;
        }
        return n;
    }

    private int rowStart(int query) {
        if (query < 0 || query >= queryCount) {
            throw new IndexOutOfBoundsException("query " + query + " of " + queryCount);
        }
        return query * k;
    }

    private int checkRank(int rank) {
        if (rank < 0 || rank >= k) {
            throw new IndexOutOfBoundsException("rank " + rank + " of k=" + k);
        }
        return rank;
    }
}
