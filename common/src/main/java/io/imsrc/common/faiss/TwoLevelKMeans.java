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
 * each point with the sqrt(nlist) coarse centroids and then with its own cluster's share of the
 * lists, on the order of 2 sqrt(nlist) instead of nlist when the clusters are even (more for points
 * of a large cluster): for the 1,265 lists of a 100,000-vector category, 4.6 to 13 times faster as
 * measured (docs/benchmarks.md, "IVF training in two levels", for the times and the recall at the
 * calibrated nprobe). A coarse cluster holding more than FAISS's 256 points per list is sampled
 * down to that, as FAISS's k-means would.
 *
 * <p>Runs on the calling thread with one OpenMP thread (OpenBLAS keeps its own threads for the
 * matrix products that are most of k-means): many short k-means lose more to OpenMP's idle threads
 * spinning against OpenBLAS's than a second thread gains. For 1,263 lists on the 2-core machine,
 * 0.6-0.75 s with one OpenMP thread against 1.7-1.9 s with two. The calling thread's setting is
 * restored afterwards.
 *
 * <p>Stateless; each call creates and frees its own FAISS indexes, apart from those of the {@link
 * TwoLevelLists} it returns, which its caller closes.
 */
public final class TwoLevelKMeans {
    /**
     * Below this many lists IVF's own k-means is cheap enough (at 64 points per list, a few
     * hundred milliseconds) and two levels would split too few points per coarse cluster.
     */
    public static final int MIN_LISTS = 256;

    /** FAISS's k-means default max_points_per_centroid: it samples a larger training set down to this. */
    static final int MAX_POINTS_PER_LIST = 256;

    private TwoLevelKMeans() {}

    /**
     * {@code nlist} list centroids for {@code sample} ({@code sample.length / dimension} rows, at
     * least {@code nlist}), with the coarse clusters they were split from, so that vectors can be
     * given a list without comparing them with every centroid ({@link TwoLevelLists#assign}). The
     * centroids ({@link TwoLevelLists#centroids}) are unit length as IVF's inner-product training
     * leaves them, except where a coarse cluster has as many lists as points, whose points FAISS
     * takes as they are (unit length too for a sample of unit vectors, as embeddings are).
     */
    public static TwoLevelLists train(float[] sample, int dimension, int nlist) {
        Objects.requireNonNull(sample, "sample");
        if (dimension < 1 || sample.length % dimension != 0) {
            throw new IllegalArgumentException("the sample must hold rows of " + dimension + " values");
        }
        int n = sample.length / dimension;
        if (nlist < 1 || n < nlist) {
            throw new IllegalArgumentException(nlist + " lists need at least as many training points, got " + n);
        }
        return FaissThreads.onOneThread(() -> twoLevels(sample, dimension, n, nlist));
    }

    private static TwoLevelLists twoLevels(float[] sample, int dimension, int n, int nlist) {
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
        int[] firstList = new int[coarse];
        int written = 0;
        for (int c = 0; c < coarse; c++) {
            firstList[c] = written;
            if (lists[c] == 0) {
                continue;
            }
            // FAISS's k-means samples down to MAX_POINTS_PER_LIST a list itself; taking no more here
            // spares copying a whole category's rows when the sample is one.
            int taken = (int) Math.min(members[c], (long) MAX_POINTS_PER_LIST * lists[c]);
            float[] rows = new float[taken * dimension];
            for (int i = 0; i < taken; i++) {
                int row = order[start[c] + (int) ((long) i * members[c] / taken)];
                System.arraycopy(sample, row * dimension, rows, i * dimension, dimension);
            }
            float[] split = kMeans(rows, dimension, lists[c]);
            System.arraycopy(split, 0, centroids, written * dimension, split.length);
            written += lists[c];
        }
        return new TwoLevelLists(dimension, centroids, coarseCentroids, firstList, lists);
    }

    /**
     * How many of {@code total} lists each coarse cluster gets: in proportion to its points, rounded
     * down, then each list still to give (or to take back) going to (or from) the cluster where it
     * leaves the points per list most even; at least one for a cluster with points, never more than
     * its points, none for an empty one. Needs at least {@code total} points in all, and no more clusters with points
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
