package io.imsrc.query.index;

import io.imsrc.common.faiss.ExactNeighbours;
import io.imsrc.common.faiss.FaissIndex;
import io.imsrc.common.faiss.IndexSpec;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.faiss.Metric;
import io.imsrc.common.faiss.SearchResult;
import io.imsrc.common.faiss.TwoLevelKMeans;
import io.imsrc.common.faiss.TwoLevelLists;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The FAISS index of one category's images. The second search stage searches only the indexes of
 * the categories the first stage chose, so each category gets its own, of the kind {@link
 * IndexType#spec} chooses for the configured type and the category's size at build time (with
 * {@code auto}: exact below {@link IndexType#AUTO_APPROXIMATE_FROM} vectors, IVF from there). The
 * kind stays as vectors are added; a category that grows past a threshold changes kind at the next
 * full build (a rebuild, or a start without a usable saved index).
 *
 * <p>Thread-safe: {@link FaissIndex} lets searches run in parallel and serialises adds. Owns its
 * native index; {@link #close} frees it.
 */
public final class CategoryIndex implements AutoCloseable {

    /**
     * IVF lists searched per query, as a share of all lists: half. On one category of 64-d clustered
     * unit vectors (docs/benchmarks.md, "Index kinds by category size") recall@10 reached 0.95 at
     * 38 to 48% of the lists for 10,000 to 250,000 vectors; a half leaves a margin (about 0.97 to
     * 0.98 there, interpolated between the measured settings). The quarter used before gave about
     * 0.85 to 0.90.
     */
    static final int IVF_NPROBE_DIVISOR = 2;

    /**
     * HNSW's search breadth. On the same data efSearch 256 gave recall@10 of 0.97 or more up to
     * 50,000 vectors, 0.946 at 100,000 and 0.865 at 250,000 (M = 32 cannot do better cheaply), which
     * is why {@link IndexType#AUTO} uses IVF for large categories.
     */
    static final int HNSW_EF_SEARCH = 256;

    private final String category;
    private final FaissIndex index;
    private final IndexSpec spec;
    /** IVF lists a search visits; 0 for other kinds. Set before the index is shared. */
    private volatile int nprobe;
    /** The two-level lists a build's adds are assigned through, until {@link #endBuild}; else null. */
    private TwoLevelLists buildLists; // guarded by this
    /** How many adds it has taken: a save links the file of an index whose version it wrote already. */
    private long version; // guarded by this

    private CategoryIndex(String category, FaissIndex index, IndexSpec spec) {
        this.category = category;
        this.index = index;
        this.spec = spec;
    }

    /** Queries a calibration takes from a category's own vectors. */
    static final int CALIBRATION_QUERIES = 100;

    /** Neighbours a calibration compares per query: the query itself, and its 10 nearest. */
    static final int CALIBRATION_K = 11;

    /**
     * Recall@10 a calibrated nprobe must reach on those queries: above the 0.95 searches are
     * promised, as the queries are vectors of the index itself (themselves left out).
     */
    static final double CALIBRATION_RECALL = 0.97;

    /** The nprobe a calibration tries, as divisors of nlist, fewest lists first. */
    private static final int[] CALIBRATION_DIVISORS = {64, 32, 16, 8, 4};

    /**
     * Training points per IVF list: FAISS's k-means wants at least 39 (it warns below) and samples
     * down to 256; 64 trains lists as good as all points would, at a fraction of the time and heap.
     */
    static final int TRAINING_POINTS_PER_LIST = 64;

    /**
     * Training points for a scalar quantizer (per-dimension ranges) and for the 256 centroids of
     * each product-quantizer slice: FAISS's k-means wants 39 per centroid, so about 10,000; 65,536
     * gives both room, and a build caps what it buffers by bytes ({@link StreamingBuild}).
     */
    static final int QUANTIZER_TRAINING_POINTS = 65_536;

    /**
     * Builds the index of a category from its vectors, the kind {@code type} gives for their number.
     *
     * @param vectors {@code ids.length * dimension} floats, row-major
     */
    public static CategoryIndex build(String category, IndexType type, int dimension, float[] vectors, long[] ids) {
        CategoryIndex built = create(category, type.spec(ids.length, dimension), dimension);
        try {
            if (!built.isTrained()) {
                built.train(vectors);
            }
            if (ids.length > 0) {
                built.add(vectors, ids);
                if (built.calibrates()) {
                    float[] queries = spread(vectors, dimension, CALIBRATION_QUERIES);
                    ExactNeighbours exact = new ExactNeighbours(queries, dimension, CALIBRATION_K);
                    exact.offer(vectors, ids);
                    built.calibrate(queries, exact.result());
                }
            }
            built.endBuild();
        } catch (RuntimeException e) {
            built.close();
            throw e;
        }
        return built;
    }

    /** An empty index of the kind {@code spec} names; one that is not {@link #isTrained} needs {@link #train} first. */
    static CategoryIndex create(String category, IndexSpec spec, int dimension) {
        Objects.requireNonNull(category, "category");
        return tuned(category, FaissIndex.create(dimension, spec.factoryDescription(), Metric.INNER_PRODUCT), spec);
    }

    /**
     * How many of a category's {@code size} vectors to train an index of this kind on, at most all
     * of them: for IVF {@value #TRAINING_POINTS_PER_LIST} per list; for SQ8 {@value
     * #QUANTIZER_TRAINING_POINTS}; for IVF-PQ the larger of the two; 0 for kinds without training.
     */
    static long trainingSampleSize(IndexSpec spec, long size) {
        long wanted;
        if (spec instanceof IndexSpec.Ivf ivf) {
            wanted = (long) TRAINING_POINTS_PER_LIST * ivf.nlist();
        } else if (spec instanceof IndexSpec.IvfPq ivfPq) {
            wanted = Math.max((long) TRAINING_POINTS_PER_LIST * ivfPq.nlist(), QUANTIZER_TRAINING_POINTS);
        } else if (spec instanceof IndexSpec.Sq8) {
            wanted = QUANTIZER_TRAINING_POINTS;
        } else {
            return 0;
        }
        return Math.min(size, wanted);
    }

    /** An index read from a file written by {@link #write}, built as {@code spec} says. */
    public static CategoryIndex read(String category, java.nio.file.Path file, IndexSpec spec) {
        return read(category, file, spec, 0);
    }

    /**
     * An index read from a file written by {@link #write}, built as {@code spec} says, searched with
     * the {@code nprobe} its build calibrated ({@link #nprobe()}; 0: the default for the spec, as
     * for files saved before calibration).
     */
    static CategoryIndex read(String category, java.nio.file.Path file, IndexSpec spec, int nprobe) {
        CategoryIndex read = tuned(category, FaissIndex.read(file), spec);
        if (nprobe > 0 && read.nprobe > 0 && nprobe != read.nprobe) {
            try {
                read.useNprobe(nprobe);
            } catch (RuntimeException e) {
                read.close();
                throw e;
            }
        }
        return read;
    }

    /** Takes ownership of {@code index}, tuned for {@code spec}; frees it if tuning fails. */
    private static CategoryIndex tuned(String category, FaissIndex index, IndexSpec spec) {
        CategoryIndex tuned = new CategoryIndex(category, index, spec);
        try {
            tuned.nprobe = tune(index, spec);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
        return tuned;
    }

    /**
     * Sets the search parameters a spec needs, the one place that does; derived from the spec each
     * time an index is built or read, so a saved index is searched with the current settings (a
     * build may then {@link #calibrate} nprobe, and a read use the calibrated one its manifest
     * saved). Returns the nprobe set, 0 for kinds without lists.
     */
    static int tune(FaissIndex index, IndexSpec spec) {
        if (spec instanceof IndexSpec.Hnsw) {
            index.setEfSearch(HNSW_EF_SEARCH);
        }
        int nlist = listsOf(spec);
        if (nlist == 0) {
            return 0;
        }
        int lists = nprobe(nlist);
        index.setNprobe(lists);
        return lists;
    }

    /** The inverted lists of an IVF kind (IVF-Flat or IVF-PQ), 0 for kinds without lists. */
    private static int listsOf(IndexSpec spec) {
        if (spec instanceof IndexSpec.Ivf ivf) {
            return ivf.nlist();
        }
        return spec instanceof IndexSpec.IvfPq ivfPq ? ivfPq.nlist() : 0;
    }

    /** Lists searched for {@code nlist} lists: {@code nlist / }{@value #IVF_NPROBE_DIVISOR}, rounded up. */
    static int nprobe(int nlist) {
        return Math.max(1, (nlist + IVF_NPROBE_DIVISOR - 1) / IVF_NPROBE_DIVISOR);
    }

    public String category() {
        return category;
    }

    /** What it was built as. */
    public IndexSpec spec() {
        return spec;
    }

    public long size() {
        return index.ntotal();
    }

    /** IVF lists a search visits (calibrated, or the spec's default); 0 for kinds without lists. */
    public int nprobe() {
        return nprobe;
    }

    /** Searches visit {@code lists} IVF lists from now on (for the calibration, a read index, and tests). */
    void useNprobe(int lists) {
        index.setNprobe(lists);
        nprobe = lists;
    }

    /** Whether {@link #calibrate} sets this kind's search (IVF-Flat), so a build should gather its exact answers. */
    boolean calibrates() {
        return spec instanceof IndexSpec.Ivf;
    }

    /**
     * Sets an IVF index's nprobe from the category's own data: the fewest lists, of nlist/64,
     * /32, /16, /8 and /4, at which searches for {@code queries} (vectors of this index) find at
     * least {@value #CALIBRATION_RECALL} of their exact 10 nearest (each query itself left out);
     * if none does, the default nlist / 2, which gave 0.95 on clouds with no structure at all.
     * Real embeddings cluster within a category and need far fewer lists; the default is for the
     * worst case. The exact answers come from the caller ({@link ExactNeighbours} over every
     * vector the index holds, gathered as they were added). Only for an index no search uses yet;
     * kinds that do not {@link #calibrates calibrate} are left as they are. Returns the nprobe set.
     *
     * @param queries vectors already in the index, row-major
     * @param exact the exact {@value #CALIBRATION_K} nearest of each query among the index's vectors
     */
    int calibrate(float[] queries, SearchResult exact) {
        if (!(spec instanceof IndexSpec.Ivf ivf) || queries.length == 0) {
            return nprobe;
        }
        if (exact.queryCount() * index.dimension() != queries.length || exact.k() != CALIBRATION_K) {
            throw new IllegalArgumentException("the exact answers must be the " + CALIBRATION_K + " nearest of each of the "
                    + queries.length / index.dimension() + " queries, got " + exact.k() + " of " + exact.queryCount());
        }
        int nlist = ivf.nlist();
        int fallback = nprobe(nlist);
        int chosen = fallback;
        for (int divisor : CALIBRATION_DIVISORS) {
            int lists = Math.max(1, nlist / divisor);
            if (lists >= fallback) {
                break;
            }
            index.setNprobe(lists);
            if (recallWithoutSelf(exact, index.search(queries, CALIBRATION_K)) >= CALIBRATION_RECALL) {
                chosen = lists;
                break;
            }
        }
        useNprobe(chosen);
        return chosen;
    }

    /** Recall@10 of {@code found} against {@code exact}, leaving out each query's best hit (itself). */
    static double recallWithoutSelf(SearchResult exact, SearchResult found) {
        long wanted = 0;
        long hit = 0;
        for (int q = 0; q < exact.queryCount(); q++) {
            long[] truth = exact.ids(q);
            long self = truth.length > 0 ? truth[0] : -1;
            Set<Long> got = new HashSet<>();
            for (long id : found.ids(q)) {
                got.add(id);
            }
            for (long id : truth) {
                if (id != self && id >= 0) {
                    wanted++;
                    hit += got.contains(id) ? 1 : 0;
                }
            }
        }
        return wanted == 0 ? 1.0 : hit / (double) wanted;
    }

    /** Up to {@code count} rows of {@code vectors} spread evenly over it. */
    static float[] spread(float[] vectors, int dimension, int count) {
        int rows = vectors.length / dimension;
        int taken = Math.min(rows, count);
        float[] picked = new float[taken * dimension];
        for (int i = 0; i < taken; i++) {
            int row = (int) ((long) i * rows / taken);
            System.arraycopy(vectors, row * dimension, picked, i * dimension, dimension);
        }
        return picked;
    }

    boolean isTrained() {
        return index.isTrained();
    }

    /**
     * Trains the index on a sample of {@code sample.length / dimension} vectors. An IVF kind of
     * {@value TwoLevelKMeans#MIN_LISTS} lists or more gets its list centroids from {@link
     * TwoLevelKMeans} rather than from FAISS's own k-means over all lists, which costs the square
     * of nlist (about 5 times faster at 100,000 vectors, for recall about 0.01 lower at the same
     * calibrated nprobe; docs/benchmarks.md). An IVF-Flat's adds then go, until {@link #endBuild},
     * to the lists {@link TwoLevelLists#assign} picks instead of FAISS's nearest of all; its
     * calibration measures recall on the index so filled.
     */
    synchronized void train(float[] sample) {
        version++;
        int lists = listsOf(spec);
        if (lists < TwoLevelKMeans.MIN_LISTS) {
            index.train(sample);
            return;
        }
        TwoLevelLists trained = TwoLevelKMeans.train(sample, index.dimension(), lists);
        try {
            index.trainWithCentroids(trained.centroids(), sample);
        } catch (RuntimeException e) {
            trained.close();
            throw e;
        }
        if (calibrates()) {
            buildLists = trained;
        } else {
            // IVF-PQ: no calibration would measure what approximate lists cost it, and its codes are
            // trained on the residuals to the nearest list of all.
            trained.close();
        }
    }

    /** Whether adds go to the lists {@link TwoLevelLists} picks: from a two-level training to {@link #endBuild}. */
    synchronized boolean building() {
        return buildLists != null;
    }

    /**
     * Ends the build: adds from now on go to the nearest of all lists, as FAISS's own add does (a
     * few at a time, where comparing with every list costs little), and the build's lists are freed.
     */
    synchronized void endBuild() {
        if (buildLists != null) {
            buildLists.close();
            buildLists = null;
        }
    }

    /** The list centroids of a trained IVF kind (for tests). */
    float[] listCentroids() {
        return index.listCentroids();
    }

    /** Adds vectors; the caller makes sure none of the ids is in the index already. */
    public synchronized void add(float[] vectors, long[] ids) {
        version++;
        if (buildLists != null) {
            index.addToLists(vectors, ids, buildLists.assign(vectors));
        } else {
            index.addWithIds(vectors, ids);
        }
    }

    /**
     * Changes with every {@link #add} and {@link #train}: equal versions of one index, equal vectors
     * (a save links the file of an unchanged one). The search settings (nprobe) are not counted:
     * they are set before an index is saved or shared, and the manifest carries them.
     */
    synchronized long version() {
        return version;
    }

    /** The {@code k} nearest by inner product (the cosine, for unit vectors). */
    public SearchResult search(float[] query, int k) {
        return index.search(query, k);
    }

    public void write(java.nio.file.Path file) {
        index.write(file);
    }

    @Override
    public void close() {
        endBuild();
        index.close();
    }
}
