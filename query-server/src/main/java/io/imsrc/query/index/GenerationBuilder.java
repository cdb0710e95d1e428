package io.imsrc.query.index;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.store.VectorRow;
import io.imsrc.query.store.VectorStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    /** A generation with the holes its reading left, which the next catch-up looks in again. */
    record Built(IndexSnapshot snapshot, HoleTracker holes) {}

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

    /** A generation of every vector the store has for the model, one index per category. */
    Built build() throws Exception {
        Map<String, List<VectorRow>> byCategory = new LinkedHashMap<>();
        List<Long> seqs = new ArrayList<>();
        long builtAt = System.currentTimeMillis();
        store.forEachVector(row -> {
            byCategory.computeIfAbsent(row.category(), c -> new ArrayList<>()).add(row);
            seqs.add(row.seq());
        });
        HoleTracker tracker = newHoleTracker();
        tracker.read(0, seqs.stream().mapToLong(Long::longValue).toArray(), System.currentTimeMillis());
        IndexSnapshot snapshot = IndexSnapshot.build(store.modelId(), type, dimension, builtAt, byCategory);
        return new Built(snapshot, tracker);
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
