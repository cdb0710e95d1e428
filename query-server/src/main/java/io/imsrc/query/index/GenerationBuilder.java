package io.imsrc.query.index;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.io.NativeAllocator;
import io.imsrc.query.store.VectorRow;
import io.imsrc.query.store.VectorStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Fills generations from PostgreSQL: a new one from every vector of the model ({@link #build}),
 * and an existing one brought up to date ({@link #catchUp} above its watermark and in the {@link
 * HoleTracker holes} below it, {@link #addMissedBelow} for a generation read from files).
 *
 * <p>Stateless apart from its settings: the refresh thread and the rebuild thread may use it at
 * once, each on its own generation.
 */
final class GenerationBuilder {

    /**
     * A generation with the holes its reading left, which the next catch-up looks in again, and
     * where the build's FAISS time went.
     */
    record Built(IndexSnapshot snapshot, HoleTracker holes, StreamingBuild.Times times) {}

    private final VectorStore store;
    private final IndexType type;
    private final int dimension;
    private final Duration holeTimeout;

    GenerationBuilder(VectorStore store, IndexType type, int dimension, Duration holeTimeout) {
        this.store = store;
        this.type = type;
        this.dimension = dimension;
        this.holeTimeout = holeTimeout;
    }

    /**
     * A generation of every vector the store has for the model, one index per category, streamed
     * into FAISS a chunk at a time ({@link StreamingBuild}): the heap it takes does not grow with
     * the library. What the build freed on its way (the arrays FAISS outgrew, the training
     * sample) goes back to the kernel at its end ({@link NativeAllocator#releaseFreeMemory}).
     */
    Built build() throws Exception {
        Feed feed = new Feed(System.currentTimeMillis());
        try {
            store.readForBuild(feed);
            feed.trackHoles();
            if (feed.build == null) {
                throw new IllegalStateException("the store gave no sizes before its rows");
            }
            IndexSnapshot snapshot = feed.build.finish();
            return new Built(snapshot, feed.tracker, feed.build.times());
        } catch (Exception | Error e) {
            if (feed.build != null) {
                feed.build.abandon();
            }
            throw e;
        } finally {
            NativeAllocator.releaseFreeMemory();
        }
    }

    /** Takes the store's rows into a {@link StreamingBuild}, and their numbers into a hole tracker. */
    private final class Feed implements VectorStore.BuildReader {
        private final long builtAt;
        private final HoleTracker tracker = newHoleTracker();
        private StreamingBuild build; // made once the sizes are known
        private long[] seqs = new long[0];
        private int count;

        Feed(long builtAt) {
            this.builtAt = builtAt;
        }

        @Override
        public void sizes(Map<String, Long> vectorsPerCategory) {
            build = new StreamingBuild(store.modelId(), type, dimension, builtAt, vectorsPerCategory,
                    StreamingBuild.DEFAULT_CHUNK_SIZE);
            seqs = new long[build.presizedIds()]; // grows past it
        }

        @Override
        public void row(long imageId, String category, float[] vector, long seq, long createdAtMillis) {
            build.accept(imageId, category, vector, seq, createdAtMillis);
            if (count == seqs.length) {
                seqs = Arrays.copyOf(seqs, Math.max(16, count + (count >> 1)));
            }
            seqs[count++] = seq;
        }

        /**
         * Gives the tracker the numbers read, in order: the rows come in no particular order, and
         * the numbers skipped between them are the holes. 8 bytes a row, for the build's length.
         */
        void trackHoles() {
            long[] read = count == seqs.length ? seqs : Arrays.copyOf(seqs, count);
            seqs = null;
            Arrays.sort(read);
            tracker.read(0, read, builtAt);
        }
    }

    HoleTracker newHoleTracker() {
        // A writer has at most a few micro-batches in flight; a wider gap is another model's rows.
        return new HoleTracker(holeTimeout.toMillis(), 100_000);
    }

    /**
     * Adds the vectors up to the generation's watermark that it does not hold (those committed
     * below the watermark after it was saved).
     *
     * @return how many were added
     */
    long addMissedBelow(IndexSnapshot snapshot) throws Exception {
        // The usual case: nothing committed below the watermark after the save. One aggregate row
        // says so; the ids are compared one by one only when it does not.
        if (store.fingerprintUpTo(snapshot.newestSeq()).equals(VectorStore.IdFingerprint.of(snapshot.heldIds()))) {
            return 0;
        }
        long[] ids = store.idsUpTo(snapshot.newestSeq());
        List<Long> missing = new ArrayList<>();
        for (long id : ids) {
            if (!snapshot.holds(id)) {
                missing.add(id);
            }
        }
        if (missing.isEmpty()) {
            return 0;
        }
        List<VectorRow> rows = new ArrayList<>();
        store.forEachVectorOf(missing.stream().mapToLong(Long::longValue).toArray(), rows::add);
        return snapshot.add(rows);
    }

    /**
     * Adds what committed above the watermark and what filled the tracker's holes; the prototypes
     * are read after, by {@link #refreshPrototypes}, once the caller has noted the change.
     *
     * @return how many vectors were added
     */
    long catchUp(IndexSnapshot snapshot, HoleTracker tracker, long now) throws Exception {
        long watermark = snapshot.newestSeq();
        long[] pending = tracker.pending(now);
        List<VectorRow> rows = new ArrayList<>();
        store.forEachVectorAfter(watermark, pending, rows::add);
        tracker.read(watermark, rows.stream().mapToLong(VectorRow::seq).toArray(), now);
        return rows.isEmpty() ? 0 : snapshot.add(rows);
    }

    /** Reads the prototypes again into {@code snapshot}. */
    void refreshPrototypes(IndexSnapshot snapshot) throws Exception {
        snapshot.replacePrototypes(Prototypes.of(store.prototypes()));
    }
}
