package io.imsrc.common.faiss;

import java.util.Objects;

/**
 * The list centroids of a large IVF index by two-level k-means, for {@link
 * FaissIndex#trainWithCentroids}: first about sqrt(nlist) coarse clusters of the training sample,
 * then each coarse cluster split into its share of the nlist lists, in proportion to the points it
 * holds. Each k-means is FAISS's own (an IVF index's training with the inner-product metric:
 * spherical k-means, 10 iterations, seeded), so the centroids are what IVF's training would make,
 * except that a point's list is chosen within its coarse cluster.
 *
 * <p>Why: FAISS's k-means compares every training point with every centroid in each iteration, so
 * at a fixed number of points per list its cost grows with the square of nlist. Two levels compare
 * each point with about 2 sqrt(nlist) centroids instead of nlist: for the 1,265 lists of a
 * 100,000-vector category, about 18 times fewer comparisons (docs/benchmarks.md, "IVF training in
 * two levels", for the measured times and the recall at the calibrated nprobe).
 *
 * <p>Runs on the calling thread with one OpenMP thread (OpenBLAS keeps its own threads for the
 * matrix products that are most of k-means): many short k-means lose more to OpenMP's idle threads
 * spinning against OpenBLAS's than a second thread gains. For 1,263 lists on the 2-core machine,
 * 0.6-0.75 s with one OpenMP thread against 1.7-1.9 s with two. The calling thread's setting is
 * restored afterwards.
 *
 * <p>Stateless; each call creates and frees its own FAISS indexes.
 */
public final class TwoLevelKMeans {
    /**
     * Below this many lists IVF's own k-means is cheap enough (at 64 points per list, a few
     * hundred milliseconds) and two levels would split too few points per coarse cluster.
     */
    public static final int MIN_LISTS = 256;

    private TwoLevelKMeans() {}

    /**
     * {@code nlist} centroids for {@code sample} ({@code sample.length / dimension} rows, at least
     * {@code nlist}), row-major, unit length as IVF's inner-product training leaves them.
     */
    public static float[] centroids(float[] sample, int dimension, int nlist) {
        Objects.requireNonNull(sample, "sample");
        if (dimension < 1 || sample.length % dimension != 0) {
            throw new IllegalArgumentException("the sample must hold rows of " + dimension + " values");
        }
        int n = sample.length / dimension;
        if (nlist < 1 || n < nlist) {
            throw new IllegalArgumentException(nlist + " lists need at least as many training points, got " + n);
        }
        int threads = FaissThreads.maxThreads();
        FaissThreads.setNumThreads(1);
        try {
            return twoLevels(sample, dimension, n, nlist);
        } finally {
            FaissThreads.setNumThreads(threads);
        }
    }

    private static float[] twoLevels(float[] sample, int dimension, int n, int nlist) {
        int coarse = Math.max(1, (int) Math.round(Math.sqrt(nlist)));
        float[] coarseCentroids = kMeans(sample, dimension, coarse);
        int[] cell = nearest(coarseCentroids, dimension, sample);

        int[] members = new int[coarse];
        for (int c : cell) {
            members[c]++;
        }
        int[] lists = shares(members, nlist);

        // The row numbers of each coarse cluster, one cluster after another; its rows are copied
        // out one cluster at a time, so at most one cluster's rows are held beside the sample.
        int[] start = new int[coarse + 1];
        for (int c = 0; c < coarse; c++) {
            start[c + 1] = start[c] + members[c];
        }
        int[] order = new int[n];
        int[] next = start.clone();
        for (int row = 0; row < n; row++) {
            order[next[cell[row]]++] = row;
        }

        float[] centroids = new float[nlist * dimension];
        int written = 0;
        for (int c = 0; c < coarse; c++) {
            if (lists[c] == 0) {
                continue;
            }
            float[] rows = new float[members[c] * dimension];
            for (int i = 0; i < members[c]; i++) {
                System.arraycopy(sample, order[start[c] + i] * dimension, rows, i * dimension, dimension);
            }
            float[] split = kMeans(rows, dimension, lists[c]);
            System.arraycopy(split, 0, centroids, written * dimension, split.length);
            written += lists[c];
        }
        return centroids;
    }

    /**
     * How many of {@code total} lists each coarse cluster gets: in proportion to its points (largest
     * remainders first), at least one for a cluster with points, never more than its points, none
     * for an empty one. Needs at least {@code total} points in all, and no more clusters with points
     * than lists (two levels have about sqrt(total) clusters).
     */
    static int[] shares(int[] members, int total) {
        long points = 0;
        int occupied = 0;
        for (int m : members) {
            points += m;
            occupied += m > 0 ? 1 : 0;
        }
        if (points < total || occupied > total) {
            throw new IllegalArgumentException(total + " lists need at least as many points, and no more clusters"
                    + " with points, got " + points + " points in " + occupied + " clusters");
        }
        int[] lists = new int[members.length];
        int given = 0;
        for (int c = 0; c < members.length; c++) {
            lists[c] = members[c] == 0 ? 0 : (int) Math.max(1, Math.min(members[c], (long) total * members[c] / points));
            given += lists[c];
        }
        // Hand out or take back one list at a time where it changes the points per list the least.
        while (given < total) {
            int best = -1;
            for (int c = 0; c < members.length; c++) {
                if (lists[c] < members[c]
                        && (best < 0 || (double) members[c] / (lists[c] + 1) > (double) members[best] / (lists[best] + 1))) {
                    best = c;
                }
            }
            lists[best]++;
            given++;
        }
        while (given > total) {
            int best = -1;
            for (int c = 0; c < members.length; c++) {
                if (lists[c] > 1
                        && (best < 0 || (double) members[c] / (lists[c] - 1) < (double) members[best] / (lists[best] - 1))) {
                    best = c;
                }
            }
            lists[best]--;
            given--;
        }
        return lists;
    }

    /** FAISS's spherical k-means of {@code rows} into {@code k} centroids, through an IVF's training. */
    private static float[] kMeans(float[] rows, int dimension, int k) {
        try (FaissIndex ivf = FaissIndex.create(dimension, "IVF" + k + ",Flat", Metric.INNER_PRODUCT)) {
            ivf.train(rows);
            return ivf.listCentroids();
        }
    }

    /** For each row of {@code rows}, the number of its nearest centroid by inner product. */
    private static int[] nearest(float[] centroids, int dimension, float[] rows) {
        try (FaissIndex flat = FaissIndex.create(dimension, "Flat", Metric.INNER_PRODUCT)) {
            flat.add(centroids);
            SearchResult found = flat.search(rows, 1);
            int[] cell = new int[found.queryCount()];
            for (int row = 0; row < cell.length; row++) {
                cell[row] = (int) found.ids(row)[0];
            }
            return cell;
        }
    }
}
