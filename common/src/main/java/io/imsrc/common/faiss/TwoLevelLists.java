package io.imsrc.common.faiss;

import java.util.Arrays;

/**
 * The IVF list centroids {@link TwoLevelKMeans} made, with the coarse clusters they were split from,
 * and a cheap way to give vectors a list: a vector is compared with the coarse centroids and then
 * only with the lists of its {@value #PROBED_CLUSTERS} nearest coarse clusters, and goes to the
 * nearest of those lists.
 *
 * <p>Why: an IVF build's add compares every vector with every list, and at 1,265 lists (a category of
 * 100,000 vectors) that was most of the build after the read (about 0.7 s of FAISS's BLAS per
 * category on the 2-core machine). Here a vector is compared with about sqrt(nlist) coarse
 * centroids and the lists of two clusters, about a twelfth as many, in small matrix products
 * grouped by cluster.
 *
 * <p>The list chosen is the nearest of all only when that list lies in one of the two coarse
 * clusters, which is nearly always for vectors near a cluster of their kind and less often in a
 * cloud with no structure (measured in docs/benchmarks.md, "IVF adds in two levels"). A vector
 * in a list other than its nearest is still found by searches that probe that list; the build's
 * calibration of nprobe measures recall on the index as filled this way.
 *
 * <p>Holds small FAISS flat indexes (one of the coarse centroids, one per cluster of its lists, and
 * one of every list for the vectors whose two clusters have none), made when first needed and freed
 * by {@link #close}. Not thread-safe: one build thread uses it.
 */
public final class TwoLevelLists implements AutoCloseable {
    /** The nearest coarse clusters whose lists a vector is compared with. */
    static final int PROBED_CLUSTERS = 2;

    private final int dimension;
    private final float[] centroids;
    private final float[] coarseCentroids;
    /** The first list of each coarse cluster; its lists follow one another. */
    private final int[] firstList;
    private final int[] listsOf;
    private FaissIndex coarse;
    private FaissIndex[] clusters;
    private FaissIndex all;
    private boolean closed;

    /**
     * @param firstList the first list of each coarse cluster; its {@code listsOf[c]} lists follow
     *     one another, cluster after cluster, from list 0 to the last
     */
    TwoLevelLists(int dimension, float[] centroids, float[] coarseCentroids, int[] firstList, int[] listsOf) {
        int next = 0;
        for (int c = 0; c < listsOf.length; c++) {
            if (firstList[c] != next || listsOf[c] < 0) {
                throw new IllegalArgumentException("the lists of coarse cluster " + c + " do not follow those before it");
            }
            next += listsOf[c];
        }
        if (next * dimension != centroids.length || firstList.length != listsOf.length
                || listsOf.length * dimension != coarseCentroids.length) {
            throw new IllegalArgumentException("the clusters' lists are not the " + centroids.length / dimension + " centroids");
        }
        this.dimension = dimension;
        this.centroids = centroids;
        this.coarseCentroids = coarseCentroids;
        this.firstList = firstList;
        this.listsOf = listsOf;
    }

    /** The list centroids, row-major, the lists of one coarse cluster after another; a copy. */
    public float[] centroids() {
        return centroids.clone();
    }

    public int listCount() {
        return centroids.length / dimension;
    }

    /** The coarse centroids, row-major (for tests). */
    float[] coarseCentroids() {
        return coarseCentroids.clone();
    }

    /** The lists of coarse cluster {@code c}: from {@code [0]}, {@code [1]} of them (for tests). */
    int[] listsOfCluster(int c) {
        return new int[] {firstList[c], listsOf[c]};
    }

    /**
     * The list each of {@code vectors} goes to: the nearest, by inner product, of the lists of its
     * {@value #PROBED_CLUSTERS} nearest coarse clusters (of every list where those clusters have
     * none); -1 for a vector nearest to no list (one with a NaN), which {@link
     * FaissIndex#addToLists} leaves out as FAISS's own add does. Runs on one OpenMP thread of the
     * calling thread.
     *
     * @param vectors rows of the dimension, row-major
     */
    public long[] assign(float[] vectors) {
        if (closed) {
            throw new IllegalStateException("the lists are closed");
        }
        if (vectors.length % dimension != 0) {
            throw new IllegalArgumentException("vectors must be rows of " + dimension + " values");
        }
        int n = vectors.length / dimension;
        long[] assigned = new long[n];
        if (n == 0) {
            return assigned;
        }
        return FaissThreads.onOneThread(() -> {
            open();
            int probed = Math.min(PROBED_CLUSTERS, clusters.length);
            SearchResult nearestClusters = coarse.search(vectors, probed);
            float[] best = new float[n];
            Arrays.fill(best, Float.NEGATIVE_INFINITY);
            Arrays.fill(assigned, -1);
            for (int rank = 0; rank < probed; rank++) {
                assignWithin(vectors, nearestClusters, rank, assigned, best);
            }
            assignLeftOver(vectors, assigned);
            return assigned;
        });
    }

    /** Compares each vector with the lists of its {@code rank}-th nearest cluster, a cluster's vectors at a time. */
    private void assignWithin(float[] vectors, SearchResult nearestClusters, int rank, long[] assigned, float[] best) {
        int n = assigned.length;
        int[] cluster = new int[n];
        int[] start = new int[clusters.length + 1];
        for (int row = 0; row < n; row++) {
            long c = nearestClusters.id(row, rank);
            cluster[row] = c == SearchResult.NO_ID ? -1 : (int) c;
            if (cluster[row] >= 0) {
                start[cluster[row] + 1]++;
            }
        }
        for (int c = 0; c < clusters.length; c++) {
            start[c + 1] += start[c];
        }
        int[] order = new int[start[clusters.length]];
        int[] next = Arrays.copyOf(start, clusters.length);
        for (int row = 0; row < n; row++) {
            if (cluster[row] >= 0) {
                order[next[cluster[row]]++] = row;
            }
        }
        for (int c = 0; c < clusters.length; c++) {
            int members = start[c + 1] - start[c];
            if (members == 0 || clusters[c] == null) {
                continue;
            }
            float[] rows = new float[members * dimension];
            for (int i = 0; i < members; i++) {
                System.arraycopy(vectors, order[start[c] + i] * dimension, rows, i * dimension, dimension);
            }
            SearchResult nearest = clusters[c].search(rows, 1);
            for (int i = 0; i < members; i++) {
                int row = order[start[c] + i];
                float score = nearest.score(i, 0);
                if (nearest.id(i, 0) != SearchResult.NO_ID && (assigned[row] < 0 || score > best[row])) {
                    best[row] = score;
                    assigned[row] = firstList[c] + nearest.id(i, 0);
                }
            }
        }
    }

    /** Vectors whose probed clusters had no lists (empty clusters) are compared with every list. */
    private void assignLeftOver(float[] vectors, long[] assigned) {
        int left = 0;
        for (long list : assigned) {
            left += list < 0 ? 1 : 0;
        }
        if (left == 0) {
            return;
        }
        int[] rowsLeft = new int[left];
        float[] rows = new float[left * dimension];
        for (int row = 0, i = 0; row < assigned.length; row++) {
            if (assigned[row] < 0) {
                rowsLeft[i] = row;
                System.arraycopy(vectors, row * dimension, rows, i++ * dimension, dimension);
            }
        }
        if (all == null) {
            all = flatOf(centroids);
        }
        SearchResult nearest = all.search(rows, 1);
        for (int i = 0; i < left; i++) {
            assigned[rowsLeft[i]] = nearest.id(i, 0);
        }
    }

    private void open() {
        if (coarse != null) {
            return;
        }
        FaissIndex[] made = new FaissIndex[listsOf.length];
        try {
            for (int c = 0; c < listsOf.length; c++) {
                if (listsOf[c] > 0) {
                    made[c] = flatOf(Arrays.copyOfRange(centroids, firstList[c] * dimension,
                            (firstList[c] + listsOf[c]) * dimension));
                }
            }
            coarse = flatOf(coarseCentroids);
        } catch (RuntimeException e) {
            closeAll(made);
            throw e;
        }
        clusters = made;
    }

    private FaissIndex flatOf(float[] rows) {
        FaissIndex flat = FaissIndex.create(dimension, "Flat", Metric.INNER_PRODUCT);
        try {
            flat.add(rows);
        } catch (RuntimeException e) {
            flat.close();
            throw e;
        }
        return flat;
    }

    /** Frees the flat indexes; idempotent. */
    @Override
    public void close() {
        closed = true;
        if (clusters != null) {
            closeAll(clusters);
            clusters = null;
        }
        if (coarse != null) {
            coarse.close();
            coarse = null;
        }
        if (all != null) {
            all.close();
            all = null;
        }
    }

    private static void closeAll(FaissIndex[] indexes) {
        for (FaissIndex index : indexes) {
            if (index != null) {
                index.close();
            }
        }
    }
}
