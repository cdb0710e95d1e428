package io.imsrc.query.index;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.io.NativeAllocator;
import io.imsrc.query.store.VectorRow;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One generation of the search indexes: a {@link CategoryIndex} per category, the {@link
 * Prototypes}, and the watermark of what it holds. The index manager adds new vectors to the live
 * generation in place and, for a rebuild, builds the next generation beside it and swaps.
 *
 * <p><b>Lifetime.</b> A generation is reference-counted: the manager holds one reference while it
 * is live, and every search holds one for its duration ({@link #tryAcquire} / {@link #release}).
 * Retiring it drops the manager's; the native indexes are freed when the last search lets go, so a
 * swap never frees memory under a running search.
 *
 * <p><b>Threads.</b> Searches may run on any thread; {@link #add} and {@link
 * #replacePrototypes} are called by the manager's one refresh thread. The category map is
 * concurrent, each FAISS index serialises its adds against its searches, and the prototypes are an
 * immutable value behind a volatile reference.
 */
public final class IndexSnapshot {

    private final String modelId;
    private final IndexType type;
    private final int dimension;
    private final long builtAtMillis;
    private final Map<String, CategoryIndex> categories = new ConcurrentHashMap<>();
    /** Every id held, so a vector read twice (the re-read of holes) is not added twice. */
    private final IdSet ids;
    private final AtomicInteger references = new AtomicInteger(1);
    private volatile Prototypes prototypes = Prototypes.empty();
    private volatile long newestSeq;
    private volatile long newestCreatedAtMillis;

    private IndexSnapshot(String modelId, IndexType type, int dimension, long builtAtMillis, long expectedVectors) {
        this.modelId = Objects.requireNonNull(modelId, "modelId");
        this.type = Objects.requireNonNull(type, "type");
        this.dimension = dimension;
        this.builtAtMillis = builtAtMillis;
        this.ids = new IdSet(expectedVectors);
    }

    /**
     * Builds a generation from rows grouped by category, as a build from PostgreSQL would (for
     * tests and benchmarks that have their rows at hand).
     */
    public static IndexSnapshot build(String modelId, IndexType type, int dimension, long builtAtMillis,
            Map<String, List<VectorRow>> rowsByCategory) {
        Map<String, Long> sizes = new HashMap<>();
        rowsByCategory.forEach((category, rows) -> sizes.put(category, (long) rows.size()));
        StreamingBuild build = new StreamingBuild(modelId, type, dimension, builtAtMillis, sizes,
                StreamingBuild.DEFAULT_CHUNK_SIZE);
        try {
            rowsByCategory.forEach((category, rows) -> rows.forEach(
                    row -> build.accept(row.imageId(), category, row.vector(), row.seq(), row.createdAtMillis())));
            return build.finish();
        } catch (RuntimeException e) {
            build.abandon();
            throw e;
        }
    }

    /** A generation without vectors yet, which {@link StreamingBuild} fills. */
    static IndexSnapshot empty(String modelId, IndexType type, int dimension, long builtAtMillis, long expectedVectors) {
        return new IndexSnapshot(modelId, type, dimension, builtAtMillis, expectedVectors);
    }

    /** Adopts indexes read from disk, with the ids they hold and their watermark. */
    static IndexSnapshot restored(String modelId, IndexType type, int dimension, long builtAtMillis,
            Collection<CategoryIndex> indexes, long[] heldIds, long newestSeq, long newestCreatedAtMillis) {
        IndexSnapshot snapshot = new IndexSnapshot(modelId, type, dimension, builtAtMillis, heldIds.length);
        for (CategoryIndex index : indexes) {
            snapshot.categories.put(index.category(), index);
        }
        for (long id : heldIds) {
            snapshot.ids.add(id);
        }
        snapshot.newestSeq = newestSeq;
        snapshot.newestCreatedAtMillis = newestCreatedAtMillis;
        return snapshot;
    }

    /**
     * Adds rows not held yet, grouped per category in one FAISS call each; a category seen for the
     * first time gets an index of its own.
     *
     * @return how many rows were new
     */
    int add(List<VectorRow> rows) {
        Map<String, List<VectorRow>> fresh = new HashMap<>();
        for (VectorRow row : rows) {
            checkDimension(row, dimension);
            if (ids.add(row.imageId())) {
                fresh.computeIfAbsent(row.category(), c -> new ArrayList<>()).add(row);
            }
            noteNewest(row);
        }
        int added = 0;
        for (Map.Entry<String, List<VectorRow>> e : fresh.entrySet()) {
            List<VectorRow> group = e.getValue();
            float[] vectors = new float[group.size() * dimension];
            long[] groupIds = new long[group.size()];
            for (int i = 0; i < group.size(); i++) {
                System.arraycopy(group.get(i).vector(), 0, vectors, i * dimension, dimension);
                groupIds[i] = group.get(i).imageId();
            }
            CategoryIndex index = categories.get(e.getKey());
            if (index == null) {
                categories.put(e.getKey(), CategoryIndex.build(e.getKey(), type, dimension, vectors, groupIds));
            } else {
                index.add(vectors, groupIds);
            }
            added += group.size();
        }
        return added;
    }

    /**
     * For a build: takes a row's id and watermark ahead of adding its vector to the category's
     * index ({@link #putCategory}); false when the id is held already.
     */
    boolean claim(long imageId, long seq, long createdAtMillis) {
        noteNewest(seq, createdAtMillis);
        return ids.add(imageId);
    }

    /** For a build: a category's index, which the builder fills. */
    void putCategory(CategoryIndex index) {
        if (categories.putIfAbsent(index.category(), index) != null) {
            throw new IllegalStateException("category " + index.category() + " has an index already");
        }
    }

    /** Puts {@code fresh} in the place of {@code old}, which it closes; only while the generation is being built. */
    void replaceCategory(CategoryIndex old, CategoryIndex fresh) {
        if (!old.category().equals(fresh.category()) || !categories.replace(old.category(), old, fresh)) {
            throw new IllegalStateException("category " + fresh.category() + " does not hold the index to replace");
        }
        old.close();
    }

    private void noteNewest(VectorRow row) {
        noteNewest(row.seq(), row.createdAtMillis());
    }

    private void noteNewest(long seq, long createdAtMillis) {
        if (seq > newestSeq) {
            newestSeq = seq;
            newestCreatedAtMillis = createdAtMillis;
        }
    }

    private static void checkDimension(VectorRow row, int dimension) {
        if (row.vector().length != dimension) {
            throw new IllegalStateException("image " + row.imageId() + " has a vector of " + row.vector().length
                    + " dimensions, the index " + dimension);
        }
    }

    public void replacePrototypes(Prototypes next) {
        this.prototypes = Objects.requireNonNull(next, "next");
    }

    public String modelId() {
        return modelId;
    }

    public IndexType type() {
        return type;
    }

    public int dimension() {
        return dimension;
    }

    public long builtAtMillis() {
        return builtAtMillis;
    }

    public Prototypes prototypes() {
        return prototypes;
    }

    /** The index of a category, or {@code null} when it has no images of this model. */
    public CategoryIndex category(String name) {
        return categories.get(name);
    }

    /** The categories with an index, in no particular order. */
    public Set<String> categoryNames() {
        return Set.copyOf(categories.keySet());
    }

    public Collection<CategoryIndex> categoryIndexes() {
        return List.copyOf(categories.values());
    }

    public boolean holds(long imageId) {
        return ids.contains(imageId);
    }

    /** How many vectors are searchable. */
    public long size() {
        return ids.size();
    }

    /** The highest vectors.vector_seq held, and when that row was written. */
    public long newestSeq() {
        return newestSeq;
    }

    public long newestCreatedAtMillis() {
        return newestCreatedAtMillis;
    }

    long[] heldIds() {
        return ids.toArray();
    }

    /** Takes a reference for a search; false when the generation is already freed. */
    public boolean tryAcquire() {
        while (true) {
            int n = references.get();
            if (n == 0) {
                return false;
            }
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one frees the native indexes. */
    public void release() {
        int n = references.decrementAndGet();
        if (n == 0) {
            closeIndexes();
        } else if (n < 0) {
            throw new IllegalStateException("released more often than acquired");
        }
    }

    /**
     * Frees the native indexes (of a generation no search holds any more, or of one that never went
     * live), and hands the freed pages back to the kernel, which glibc would keep: on a pool thread,
     * since the last holder may be a search thread, and a trim walks every malloc arena.
     */
    void closeIndexes() {
        try {
            Closeables.closeAll(categories.values());
        } finally {
            CompletableFuture.runAsync(NativeAllocator::releaseFreeMemory);
        }
    }
}
