package io.imsrc.query.index;

import io.imsrc.common.faiss.ExactNeighbours;
import io.imsrc.common.faiss.IndexSpec;
import io.imsrc.common.faiss.IndexType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills a new generation from rows as they stream from PostgreSQL, a fixed-size chunk at a time.
 *
 * <p>Why: a build used to gather every row of the model on the Java heap before the first FAISS
 * call, a second copy of every vector (as boxed rows) that the garbage collector returned long
 * after, if at all: at a million 64-d vectors the server kept about 1 GB more resident after a
 * build than after loading the same index. Here each category owns a buffer of {@link #chunkSize}
 * vectors that goes into its FAISS index when full, so the heap a build needs does not grow with
 * the library.
 *
 * <p>The index kind of each category follows its size ({@link IndexType#spec}), so the sizes are
 * known before the first row ({@code categorySizes}: the store's maintained counts, in the same
 * snapshot as the rows). A
 * kind that needs training (IVF) first buffers a training sample ({@link
 * CategoryIndex#trainingSampleSize}): the category's first vectors as read (the store sends
 * them in its table's order, about the order they were written), trained on once the sample is
 * complete; what follows streams in chunks as for the others. A category whose sample never
 * filled, because it turns out smaller than its size said, still holds none of its vectors at
 * {@link #finish}: it then gets the kind its vectors read call for and is trained on them (an
 * overstated count could otherwise ask for more IVF lists than there are vectors). Counts that
 * differ from the rows read are logged: the maintained counts are exact but in one case
 * (docs/design.md, "catalog_counts"). An IVF
 * category's search is calibrated at {@link #finish} on vectors spread over its training sample
 * ({@link CategoryIndex#calibrate}), against their exact neighbours gathered from each chunk as it
 * goes in ({@link ExactNeighbours}).
 *
 * <p>Not thread-safe: one build thread feeds it. A failed build must {@link #abandon} it.
 */
final class StreamingBuild {

    private static final Logger LOG = LoggerFactory.getLogger(StreamingBuild.class);

    /** Vectors per FAISS add: 4096 x 64-d floats is 1 MB, large enough that a call's overhead vanishes. */
    static final int DEFAULT_CHUNK_SIZE = 4096;

    /**
     * The most floats a training sample may hold per category: 256 MB, a million 64-d vectors or
     * 32,768 of 2048-d. More would not fit the heap of a server with several such categories.
     */
    static final int MAX_TRAINING_FLOATS = 64 << 20;

    private final IndexSnapshot snapshot;
    private final IndexType type;
    private final int dimension;
    private final int chunkSize;
    private final Map<String, Long> categorySizes;
    private final Map<String, Pending> pending = new HashMap<>();
    private final int presizedIds;
    private long trainingNanos;
    private long addingNanos;
    private long exactNanos;
    private long calibratingNanos;
    private boolean finished;

    /**
     * Where a build's FAISS time went, for the log and the benchmarks: training the kinds that need
     * it, adding vectors, gathering the calibration's exact answers, and calibrating; the rest of a
     * build's time is reading the rows.
     */
    record Times(long trainingNanos, long addingNanos, long exactNanos, long calibratingNanos) {
        /** "adding N ms", after "training N ms, " when anything trained, and before the calibration's two when any calibrated. */
        @Override
        public String toString() {
            String adding = "adding " + addingNanos / 1_000_000 + " ms";
            String trained = trainingNanos > 0 ? "training " + trainingNanos / 1_000_000 + " ms, " + adding : adding;
            return exactNanos > 0 || calibratingNanos > 0
                    ? trained + ", exact answers " + exactNanos / 1_000_000 + " ms, calibration " + calibratingNanos / 1_000_000 + " ms"
                    : trained;
        }
    }

    /**
     * Ids a generation's id set is sized for before the first row, at most: a count gone wrong (see
     * {@link io.imsrc.query.store.VectorStore.BuildReader#sizes}) must not reserve memory for vectors that are not there;
     * past it the set grows as rows come.
     */
    static final long MAX_PRESIZED_IDS = 1L << 22;

    /**
     * @param categorySizes how many vectors each category has, by the store's maintained counts in
     *     the snapshot the rows are read from (a count gone wrong may be off, even negative)
     */
    StreamingBuild(String modelId, IndexType type, int dimension, long builtAtMillis, Map<String, Long> categorySizes,
            int chunkSize) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be positive, got " + chunkSize);
        }
        this.type = Objects.requireNonNull(type, "type");
        this.dimension = dimension;
        this.chunkSize = chunkSize;
        this.categorySizes = Map.copyOf(categorySizes);
        long expected = categorySizes.values().stream().mapToLong(size -> Math.max(0, size)).sum();
        this.presizedIds = (int) Math.min(expected, MAX_PRESIZED_IDS);
        this.snapshot = IndexSnapshot.empty(modelId, type, dimension, builtAtMillis, presizedIds);
    }

    /** The rows the counts promise, at most {@link #MAX_PRESIZED_IDS}: what to size per-row arrays for before they grow. */
    int presizedIds() {
        return presizedIds;
    }

    /**
     * Takes one row; the vector is copied, so the caller may reuse its array.
     *
     * @return false when the id was taken already (the row is ignored)
     */
    boolean accept(long imageId, String category, float[] vector, long seq, long createdAtMillis) {
        if (finished) {
            throw new IllegalStateException("the build is finished");
        }
        if (vector.length != dimension) {
            throw new IllegalStateException("image " + imageId + " has a vector of " + vector.length
                    + " dimensions, the index " + dimension);
        }
        if (!snapshot.claim(imageId, seq, createdAtMillis)) {
            return false;
        }
        Pending p = pending.get(category);
        if (p == null) {
            p = open(category);
        }
        p.append(imageId, vector);
        return true;
    }

    /** Adds what is still buffered and hands over the generation. */
    IndexSnapshot finish() {
        finished = true;
        Map<String, String> miscounted = new TreeMap<>();
        categorySizes.forEach((category, counted) -> {
            if (counted != 0 && !pending.containsKey(category)) {
                miscounted.put(category, "counted " + counted + ", read 0");
            }
        });
        for (Pending p : pending.values()) {
            long counted = categorySizes.getOrDefault(p.index.category(), 0L);
            if (counted != p.read) {
                miscounted.put(p.index.category(), "counted " + counted + ", read " + p.read
                        + (p.index.isTrained() ? "" : ", kind chosen by the vectors read"));
            }
            p.fitKindToVectorsRead();
            p.flush();
            if (p.exact != null) {
                long start = System.nanoTime();
                p.index.calibrate(p.calibration, p.exact.result());
                calibratingNanos += System.nanoTime() - start;
            }
            p.index.endBuild();
        }
        pending.clear();
        if (!miscounted.isEmpty()) {
            LOG.warn("The maintained counts of {} categories differ from the vectors the build read ({}). A category's "
                    + "index kind follows its count unless its training sample never filled; SELECT imsrc_recount() "
                    + "counts them again", miscounted.size(), miscounted);
        }
        return snapshot;
    }

    /** Where the FAISS time went so far. */
    Times times() {
        return new Times(trainingNanos, addingNanos, exactNanos, calibratingNanos);
    }

    /** Frees what a failed build made. */
    void abandon() {
        finished = true;
        pending.clear();
        snapshot.closeIndexes();
    }

    private Pending open(String category) {
        long size = Math.max(0, categorySizes.getOrDefault(category, 0L));
        IndexSpec spec = type.spec(size, dimension);
        CategoryIndex index = CategoryIndex.create(category, spec, dimension);
        snapshot.putCategory(index);
        int firstBuffer = chunkSize;
        if (!index.isTrained()) {
            long sample = Math.min(CategoryIndex.trainingSampleSize(spec, size), MAX_TRAINING_FLOATS / dimension);
            firstBuffer = (int) Math.max(chunkSize, sample);
        }
        Pending p = new Pending(index, firstBuffer, chunkSize);
        pending.put(category, p);
        return p;
    }

    /**
     * One category's buffer: the training sample first (if its kind needs one), then a chunk. The
     * sample's buffer grows towards its size as vectors come, so a count that says more than the
     * category has reserves no more than what arrives.
     */
    private final class Pending {
        private CategoryIndex index;
        /** Vectors spread over the training sample, to calibrate the search on at the end. */
        private float[] calibration;
        /** Their exact neighbours among the vectors added so far; null for kinds without calibration. */
        private ExactNeighbours exact;
        private float[] vectors;
        private long[] ids;
        private int count;
        /** Vectors buffered before the buffer goes into FAISS: the training sample, then a chunk. */
        private int target;
        /** Every vector taken so far. */
        private long read;

        Pending(CategoryIndex index, int target, int initialCapacity) {
            this.index = index;
            this.target = target;
            int capacity = Math.min(target, initialCapacity);
            this.vectors = new float[capacity * dimension];
            this.ids = new long[capacity];
        }

        void append(long id, float[] vector) {
            if (count == ids.length) {
                int capacity = (int) Math.min(target, 2L * ids.length);
                vectors = Arrays.copyOf(vectors, capacity * dimension);
                ids = Arrays.copyOf(ids, capacity);
            }
            System.arraycopy(vector, 0, vectors, count * dimension, dimension);
            ids[count++] = id;
            read++;
            if (count == target) {
                flush();
            }
        }

        /**
         * Gives a category whose index is still untrained (its sample never filled, so all its
         * vectors are in the buffer) the kind its vectors read call for, if its size called for
         * another.
         */
        void fitKindToVectorsRead() {
            if (index.isTrained()) {
                return;
            }
            IndexSpec fitting = type.spec(read, dimension);
            if (fitting.equals(index.spec())) {
                return;
            }
            CategoryIndex fitted = CategoryIndex.create(index.category(), fitting, dimension);
            try {
                snapshot.replaceCategory(index, fitted);
            } catch (RuntimeException e) {
                fitted.close();
                throw e;
            }
            index = fitted;
        }

        void flush() {
            if (count == 0) {
                return;
            }
            float[] rows = count == ids.length ? vectors : Arrays.copyOf(vectors, count * dimension);
            long[] rowIds = count == ids.length ? ids : Arrays.copyOf(ids, count);
            long start = System.nanoTime();
            if (!index.isTrained()) {
                index.train(rows);
                if (index.calibrates()) {
                    calibration = CategoryIndex.spread(rows, dimension, CategoryIndex.CALIBRATION_QUERIES);
                    exact = new ExactNeighbours(calibration, dimension, CategoryIndex.CALIBRATION_K);
                }
                long trained = System.nanoTime();
                trainingNanos += trained - start;
                start = trained;
            }
            index.add(rows, rowIds);
            long added = System.nanoTime();
            addingNanos += added - start;
            if (exact != null) {
                exact.offer(rows, rowIds);
                exactNanos += System.nanoTime() - added;
            }
            count = 0;
            if (target != chunkSize || ids.length != chunkSize) {
                // The training sample is in: from here on, chunks.
                target = chunkSize;
                vectors = new float[chunkSize * dimension];
                ids = new long[chunkSize];
            }
        }
    }
}
