package io.imsrc.common.faiss;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * One native FAISS index, created with {@code index_factory} or read from a file, and
 * the only way the rest of imsrc touches FAISS. Vectors travel as flat row-major {@code
 * float[]} arrays of {@code n * dimension()} values; ids are the caller's non-negative
 * longs (imsrc's image ids).
 *
 * <h2>Ownership</h2>
 *
 * <p>This object owns the C++ index and frees it in {@link #close()}, which is idempotent;
 * any other call after it throws {@link IllegalStateException}. Nothing frees the index
 * if close is never called (no finalizer, no cleaner): native memory of the size of the
 * vectors would leak, so give each index exactly one owner.
 *
 * <h2>Thread-safety</h2>
 *
 * <p>FAISS allows concurrent searches on one index (search is {@code const}), but not
 * add, remove_ids, train or a parameter change concurrently with anything else. This
 * class enforces that with a read-write lock rather than leaving it to callers: {@link
 * #search}, {@link #reconstruct}, {@link #write}, {@link #ntotal()}, {@link #isTrained()},
 * {@link #listCount()} and {@link #listCentroids()} share the read lock and run in
 * parallel; {@link #train}, {@link #trainWithCentroids}, {@link #add}, {@link
 * #addWithIds}, {@link #addToLists}, {@link #removeIds}, {@link #setNprobe}, {@link
 * #setEfSearch} and {@link #close()} take the write lock. The lock costs well under a microsecond against a
 * search of a millisecond, and it is what makes close safe: without it a close racing
 * an in-flight search would free memory under it and crash the JVM, and the query
 * server does refresh its index while HTTP threads search. Writers still wait for
 * running searches, so a long batch search delays an add; swapping in a freshly built
 * index avoids that where it matters.
 *
 * <p>Each calling thread starts its own OpenMP team inside FAISS; see {@link
 * FaissThreads} for bounding it.
 *
 * <h2>What FAISS 1.7.3 does and does not support here</h2>
 *
 * <ul>
 *   <li>{@link #addWithIds} needs an index that stores ids: an {@code "IDMap2,..."}
 *       wrapper or an IVF index. A bare {@code "Flat"} or {@code "HNSW32,Flat"} only
 *       takes {@link #add}, which numbers vectors 0, 1, 2, ...
 *   <li>{@link #reconstruct} needs {@code "IDMap2,..."} (not {@code "IDMap,..."}) or an
 *       IVF index. It is exact for Flat storage ({@code ",Flat"}); {@code SQ8} and {@code PQ<m>}
 *       store codes, and give back the decoded approximation. For an IVF index this class switches on FAISS's direct map when it
 *       opens the index: a hash table for a bare IVF index, which keeps remove_ids
 *       working, and an array for an IVF inside an id map, where FAISS numbers the
 *       vectors itself.
 *   <li>{@link #removeIds} works for Flat, {@code "IDMap2,SQ8"} and bare IVF indexes
 *       ({@code "IVF<n>,Flat"}, {@code "IVF<n>,PQ<m>"}). HNSW has no remove_ids,
 *       and an IVF index inside {@code IDMap}/{@code IDMap2} would be corrupted by one
 *       (the id map compacts its table, the IVF keeps its old internal numbers, so later
 *       results carry the wrong ids): both raise {@link UnsupportedOperationException}
 *       before FAISS is called. Use {@code "IVF<n>,Flat"} for a removable IVF index, as
 *       {@link IndexType#IVFFLAT} does.
 *   <li>A duplicate id is accepted by FAISS and then returned twice; callers dedupe.
 * </ul>
 *
 * <p>Arguments are checked here, with {@link IllegalArgumentException}s that say what was
 * wrong, before any native call; what only FAISS can judge (a factory string, training
 * an IVF with fewer vectors than lists, an unknown id) comes back as a {@link
 * FaissException} with FAISS's message.
 *
 * <p>It stays one class of about 500 lines on purpose: it is the facade the native mapping
 * ({@link FaissLibrary}) hides behind, and every method follows the same lock, check and
 * translate-the-exception protocol above; split, the protocol would have to be checked in
 * several places, and a {@code Pointer} would have to travel between them.
 */
public final class FaissIndex implements AutoCloseable {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final int dimension;
    private final Metric metric;
    /** Why remove_ids must not reach FAISS for this index, or null when it may. */
    private final String removeRefusal;
    /** Whether FAISS needs an IDSelectorArray (a bare IVF index with a hash-table direct map). */
    private final boolean removeNeedsSelectorArray;
    /** The IVF index itself (this one, or the one inside its id map), or null for kinds without lists. */
    private final FaissLibrary.IndexIVF ivf;
    /** Whether {@link #ivf} is this index itself, keeping the ids (not inside an id map). */
    private final boolean bareIvf;

    /** The owned C++ index; null once closed. Guarded by {@link #lock}. */
    private FaissLibrary.Index index;

    private FaissIndex(FaissLibrary.Index index) {
        this.index = index;
        this.dimension = index.d();
        this.metric = Metric.fromFaissValue(index.metric_type());

        FaissLibrary.IndexIDMap idMap = FaissLibrary.asIndexIDMap(index);
        FaissLibrary.Index inner = idMap != null ? idMap.index() : index;
        FaissLibrary.IndexIVF ivf = FaissLibrary.asIndexIVF(inner);
        if (ivf != null) {
            int type = idMap != null ? FaissLibrary.DIRECT_MAP_ARRAY : FaissLibrary.DIRECT_MAP_HASHTABLE;
            callFaiss("set_direct_map_type", () -> ivf.set_direct_map_type(type));
        }
        if (FaissLibrary.asIndexHNSW(inner) != null) {
            removeRefusal = "HNSW indexes cannot remove vectors in FAISS 1.7.3 (IndexHNSW has no remove_ids):"
                    + " rebuild the index without them or filter them out of the results";
        } else if (ivf != null && idMap != null) {
            removeRefusal = "an IVF index inside IDMap/IDMap2 cannot remove vectors in FAISS 1.7.3: the id map"
                    + " compacts its table while the IVF keeps its old internal numbers, so later results would"
                    + " carry the wrong ids; use \"IVF<n>,Flat\", which stores ids itself";
        } else {
            removeRefusal = null;
        }
        removeNeedsSelectorArray = ivf != null && idMap == null;
        this.ivf = ivf;
        this.bareIvf = ivf != null && idMap == null;
    }

    /**
     * Creates an empty index with FAISS's {@code index_factory}, for example {@code
     * "IDMap2,Flat"}, {@code "IVF400,Flat"} or {@code "IDMap2,HNSW32,Flat"}.
     *
     * @throws FaissException with FAISS's message when it cannot parse {@code description}
     */
    public static FaissIndex create(int dimension, String description, Metric metric) {
        if (dimension <= 0) {
            throw new IllegalArgumentException("dimension must be positive, got " + dimension);
        }
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(metric, "metric");
        if (description.isBlank()) {
            throw new IllegalArgumentException("index description must not be blank");
        }
        FaissLibrary.Index created = callFaiss(
                "index_factory(" + dimension + ", \"" + description + "\", " + metric + ")",
                () -> FaissLibrary.index_factory(dimension, description, metric.faissValue()));
        return adopt(created);
    }

    /** Reads an index written by {@link #write} (or by any FAISS 1.7.3 {@code write_index}). */
    public static FaissIndex read(Path file) {
        Objects.requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no FAISS index file at " + file);
        }
        String name = file.toString();
        FaissLibrary.Index loaded = callFaiss("read_index(" + name + ")", () -> FaissLibrary.read_index(name, 0));
        return adopt(loaded);
    }

    private static FaissIndex adopt(FaissLibrary.Index created) {
        if (created == null || created.isNull()) {
            throw new FaissException("FAISS returned no index");
        }
        try {
            return new FaissIndex(created);
        } catch (RuntimeException e) {
            FaissLibrary.delete(created);
            throw e;
        }
    }

    public int dimension() {
        return dimension;
    }

    public Metric metric() {
        return metric;
    }

    /** The number of vectors in the index (FAISS's {@code ntotal}). */
    public long ntotal() {
        return underReadLock(() -> index.ntotal());
    }

    /** False for an IVF index until {@link #train} has run; always true for Flat and HNSW. */
    public boolean isTrained() {
        return underReadLock(() -> index.is_trained());
    }

    /**
     * Trains the index on {@code vectors}; IVF needs this before {@link #add}, with at
     * least as many vectors as lists (FAISS warns below 39 per list).
     */
    public void train(float[] vectors) {
        long n = vectorCount(vectors, "training vectors");
        underWriteLock(() -> callFaiss("train", () -> index.train(n, vectors)));
    }

    /**
     * The number of inverted lists of an IVF index (FAISS's {@code nlist}).
     *
     * @throws UnsupportedOperationException for kinds without lists
     */
    public int listCount() {
        return underReadLock(() -> Math.toIntExact(requireIvf().nlist()));
    }

    /**
     * The centroids of a trained IVF index's lists, {@link #listCount()} rows of {@link #dimension()}
     * values: what its coarse quantizer holds.
     *
     * @throws UnsupportedOperationException for kinds without lists
     * @throws IllegalStateException when the index is not trained
     */
    public float[] listCentroids() {
        return underReadLock(() -> {
            FaissLibrary.Index quantizer = requireIvf().quantizer();
            long lists = ivf.nlist();
            if (quantizer.ntotal() != lists) {
                throw new IllegalStateException("the IVF index is not trained: its quantizer holds "
                        + quantizer.ntotal() + " of " + lists + " centroids");
            }
            float[] centroids = new float[Math.toIntExact(lists * dimension)];
            callFaiss("reconstruct_n of the quantizer", () -> quantizer.reconstruct_n(0, lists, centroids));
            return centroids;
        });
    }

    /**
     * Trains an IVF index with list centroids computed elsewhere instead of its own k-means: puts
     * {@code centroids} ({@link #listCount()} rows) into its coarse quantizer, then trains what
     * else the kind needs (for IVF-PQ, the product quantizer on the residuals of {@code sample}),
     * which FAISS does without clustering again once the quantizer holds nlist centroids.
     *
     * @throws UnsupportedOperationException for kinds without lists
     * @throws IllegalStateException when the index is trained already
     */
    public void trainWithCentroids(float[] centroids, float[] sample) {
        long n = vectorCount(sample, "training vectors");
        long given = vectorCount(centroids, "centroids");
        underWriteLock(() -> {
            FaissLibrary.Index quantizer = requireIvf().quantizer();
            long lists = ivf.nlist();
            if (given != lists) {
                throw new IllegalArgumentException("an IVF index of " + lists + " lists needs " + lists
                        + " centroids, got " + given);
            }
            if (index.is_trained() || quantizer.ntotal() != 0) {
                throw new IllegalStateException("the IVF index is trained already");
            }
            callFaiss("adding the centroids to the quantizer", () -> quantizer.add(given, centroids));
            try {
                callFaiss("train", () -> index.train(n, sample));
            } catch (RuntimeException e) {
                // Untrained as before, rather than a full quantizer a later train() would keep.
                callFaiss("emptying the quantizer", quantizer::reset);
                throw e;
            }
        });
    }

    private FaissLibrary.IndexIVF requireIvf() {
        if (ivf == null) {
            throw new UnsupportedOperationException("not an IVF index: it has no lists");
        }
        return ivf;
    }

    /** Adds vectors numbered on from {@link #ntotal()}; only for indexes without an id map. */
    public void add(float[] vectors) {
        long n = vectorCount(vectors, "vectors");
        underWriteLock(() -> callFaiss("add", () -> index.add(n, vectors)));
    }

    /** Adds vectors under the caller's ids, {@code ids[i]} for the i-th vector. */
    public void addWithIds(float[] vectors, long[] ids) {
        long n = vectorCount(vectors, "vectors");
        Objects.requireNonNull(ids, "ids");
        if (ids.length != n) {
            throw new IllegalArgumentException(
                    "got " + n + " vectors but " + ids.length + " ids; one id per vector is needed");
        }
        checkIds(ids);
        underWriteLock(() -> callFaiss("add_with_ids", () -> index.add_with_ids(n, vectors, ids)));
    }

    /**
     * Adds vectors under the caller's ids into the lists the caller chose, {@code lists[i]} for the
     * i-th vector, instead of the nearest list by the quantizer: FAISS's {@code add_core} with
     * precomputed assignments, for a build that assigns more cheaply than by comparing every vector
     * with every list ({@link TwoLevelLists#assign}). A vector in a list other than its nearest is
     * still found by searches that probe that list. List -1 leaves the vector out but counts it in
     * {@link #ntotal()}, as FAISS's own add does with a vector that has no nearest list (one with a
     * NaN).
     *
     * @throws UnsupportedOperationException for kinds without lists, and for an IVF inside an id map
     *     (the map would not learn the ids)
     * @throws IllegalStateException when the index is not trained
     */
    public void addToLists(float[] vectors, long[] ids, long[] lists) {
        long n = vectorCount(vectors, "vectors");
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(lists, "lists");
        if (ids.length != n || lists.length != n) {
            throw new IllegalArgumentException("got " + n + " vectors, " + ids.length + " ids and " + lists.length
                    + " lists; one of each per vector is needed");
        }
        checkIds(ids);
        underWriteLock(() -> {
            FaissLibrary.IndexIVF target = requireIvf();
            if (!bareIvf) {
                throw new UnsupportedOperationException("an IVF index inside an id map cannot take vectors into chosen"
                        + " lists: the map would not learn their ids");
            }
            if (!index.is_trained()) {
                throw new IllegalStateException("the IVF index is not trained");
            }
            long nlist = target.nlist();
            for (long list : lists) {
                if (list < -1 || list >= nlist) {
                    throw new IllegalArgumentException("list " + list + " is not one of the " + nlist + " lists, nor -1");
                }
            }
            callFaiss("add_core", () -> target.add_core(n, vectors, ids, lists));
        });
    }

    /**
     * Removes the vectors with these ids, ignoring ids the index does not hold.
     *
     * @return how many vectors were removed
     * @throws UnsupportedOperationException for HNSW and for IVF inside an id map
     */
    @SuppressWarnings("try") // the PointerScope is used only to free what its block allocates
    public long removeIds(long... ids) {
        Objects.requireNonNull(ids, "ids");
        checkIds(ids);
        return underWriteLock(() -> {
            if (removeRefusal != null) {
                throw new UnsupportedOperationException(removeRefusal);
            }
            if (ids.length == 0) {
                return 0L;
            }
            // The selector and, for IDSelectorArray, the id array it points into live
            // exactly as long as the call.
            try (PointerScope scope = new PointerScope()) {
                FaissLibrary.IDSelector selector = removeNeedsSelectorArray
                        ? new FaissLibrary.IDSelectorArray(ids.length, new LongPointer(ids))
                        : new FaissLibrary.IDSelectorBatch(ids.length, ids);
                return callFaiss("remove_ids", () -> index.remove_ids(selector));
            }
        });
    }

    /**
     * Finds the {@code k} nearest vectors of each query in {@code queries} (nq rows of
     * {@link #dimension()} values), in one call to FAISS.
     */
    public SearchResult search(float[] queries, int k) {
        long nq = vectorCount(queries, "queries");
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (nq * k > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(nq + " queries x k=" + k + " results do not fit in one array");
        }
        long[] labels = new long[(int) (nq * k)];
        float[] distances = new float[labels.length];
        underReadLock(() -> callFaiss("search", () -> index.search(nq, queries, k, distances, labels)));
        return new SearchResult((int) nq, k, labels, distances);
    }

    /**
     * The stored vector with this id: exact for Flat, IVF-Flat and HNSW-Flat storage, the decoded
     * approximation for SQ8 and PQ (imsrc itself never reconstructs; searches return ids and scores).
     *
     * @throws FaissException when the index does not hold {@code id}, or cannot
     *     reconstruct (an {@code "IDMap,..."} index; use {@code "IDMap2,..."})
     */
    public float[] reconstruct(long id) {
        float[] vector = new float[dimension];
        underReadLock(() -> callFaiss("reconstruct(" + id + ")", () -> index.reconstruct(id, vector)));
        return vector;
    }

    /**
     * Writes the index to {@code file}, replacing it. Not atomic: write to a temporary
     * name and move it into place when readers may look.
     */
    public void write(Path file) {
        Objects.requireNonNull(file, "file");
        String name = file.toString();
        underReadLock(() -> callFaiss("write_index(" + name + ")", () -> FaissLibrary.write_index(index, name)));
    }

    /**
     * Sets how many inverted lists an IVF search visits (FAISS's default is 1). More
     * lists, higher recall, slower search; see {@link IndexType} for imsrc's settings.
     */
    public void setNprobe(int nprobe) {
        setParameter("nprobe", nprobe);
    }

    /** Sets the size of HNSW's search candidate list (FAISS's default is 16); at least k is used. */
    public void setEfSearch(int efSearch) {
        setParameter("efSearch", efSearch);
    }

    /**
     * Through FAISS's ParameterSpace, which looks through IDMap2 and other wrappers to the
     * index the parameter belongs to, and fails for an index it does not apply to.
     */
    @SuppressWarnings("try") // the PointerScope is used only to free what its block allocates
    private void setParameter(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
        underWriteLock(() -> {
            try (PointerScope scope = new PointerScope()) {
                FaissLibrary.ParameterSpace space = new FaissLibrary.ParameterSpace();
                callFaiss("setting " + name + "=" + value, () -> space.set_index_parameter(index, name, value));
            }
        });
    }

    /** Frees the native index; waits for running calls, and does nothing the second time. */
    @Override
    public void close() {
        Lock writeLock = lock.writeLock();
        writeLock.lock();
        try {
            if (index != null) {
                FaissLibrary.delete(index);
                index.setNull();
                index = null;
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "FaissIndex[d=" + dimension + ", metric=" + metric + "]";
    }

    private long vectorCount(float[] vectors, String what) {
        Objects.requireNonNull(vectors, what);
        if (vectors.length == 0 || vectors.length % dimension != 0) {
            throw new IllegalArgumentException(what + " must hold a positive multiple of the dimension "
                    + dimension + " values, got " + vectors.length);
        }
        return vectors.length / dimension;
    }

    private static void checkIds(long[] ids) {
        for (long id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException("ids must be non-negative (FAISS uses -1 for no result), got " + id);
            }
        }
    }

    private <T> T underReadLock(Supplier<T> action) {
        return locked(lock.readLock(), action);
    }

    private void underReadLock(Runnable action) {
        locked(lock.readLock(), asSupplier(action));
    }

    private <T> T underWriteLock(Supplier<T> action) {
        return locked(lock.writeLock(), action);
    }

    private void underWriteLock(Runnable action) {
        locked(lock.writeLock(), asSupplier(action));
    }

    private <T> T locked(Lock held, Supplier<T> action) {
        held.lock();
        try {
            if (index == null) {
                throw new IllegalStateException("the FAISS index is closed");
            }
            return action.get();
        } finally {
            held.unlock();
        }
    }

    private static Supplier<Void> asSupplier(Runnable action) {
        return () -> {
            action.run();
            return null;
        };
    }

    /** Runs one native call, turning the RuntimeException JavaCPP makes of a C++ exception into a FaissException. */
    private static <T> T callFaiss(String operation, Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            throw new FaissException(operation, e);
        }
    }

    private static void callFaiss(String operation, Runnable call) {
        callFaiss(operation, asSupplier(call));
    }
}
