package io.imsrc.query.search;

import io.imsrc.common.faiss.FaissThreads;
import io.imsrc.common.faiss.SearchResult;
import io.imsrc.query.index.CategoryIndex;
import io.imsrc.query.index.IndexSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The two search stages over one generation of the indexes: rank the categories by prototype
 * ({@link CategoryRanking}), then search the images of the chosen ones only and merge their hits.
 *
 * <p>Every category's index is asked for {@code offset + limit} hits (one more when an image is
 * excluded), so merging them gives the exact page a search of the union would: the top hits of a
 * union are among the top hits of each part. Ties break by image id, so pages do not overlap.
 *
 * <p>FAISS runs one OpenMP thread per searching thread: on a few cores, HTTP threads searching in
 * parallel beat one search spread over threads (docs/benchmarks.md). A lone search of large
 * categories leaves cores idle, though, so the second stage may hand categories to helper threads
 * ({@code threads - 1} of them), but only while fewer searches than {@code threads} are running
 * ({@link #helpersFor}): under load every core already has a search of its own, and handing work
 * over would only add waiting (measured: with an idle-thread rule instead, 8 clients lost 17% of
 * their throughput). Helpers and the caller take the categories largest first from one queue; a
 * helper that starts late finds nothing left and returns, so the caller waits only for categories
 * already being searched.
 *
 * <p>Thread-safe. Owns its helper threads; {@link #close} stops them.
 */
public final class VectorSearch implements AutoCloseable {

    /**
     * Below this many vectors in the chosen categories one thread searches them all: a flat scan of
     * 50,000 64-d vectors takes about 2.5 ms here, and handing a category over costs tens of
     * microseconds.
     */
    static final long PARALLEL_FROM = 50_000;

    private static final ThreadLocal<Boolean> SINGLE_THREADED = ThreadLocal.withInitial(() -> {
        FaissThreads.setNumThreads(1);
        return Boolean.TRUE;
    });

    private static final Comparator<Hit> BEST_FIRST =
            Comparator.comparingDouble(Hit::similarity).reversed().thenComparingLong(Hit::imageId);

    private final int threads;
    private final ExecutorService helpers; // null with one thread
    private final AtomicInteger searching = new AtomicInteger();
    private final AtomicLong helped = new AtomicLong();

    /**
     * @param threads the most threads one search's second stage may use (SEARCH_THREADS); 1 searches
     *     every category on the calling thread
     */
    public VectorSearch(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        this.threads = threads;
        this.helpers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, new ThreadFactory() {
            private final AtomicInteger count = new AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "search-helper-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            }
        });
    }

    /** Every category on the calling thread: for tests and tools. */
    public static VectorSearch sequential() {
        return new VectorSearch(1);
    }

    /**
     * @param query a unit vector of the index's dimension
     */
    public SearchOutcome search(IndexSnapshot snapshot, float[] query, SearchRequest request) {
        SINGLE_THREADED.get();
        long start = System.nanoTime();
        List<CategoryScore> ranking = List.of();
        List<String> chosen;
        if (request.usePrototypes()) {
            ranking = CategoryRanking.rank(query, snapshot.prototypes(), request.categories());
            chosen = ranking.stream().limit(request.topCategories()).map(CategoryScore::category).toList();
        } else {
            Set<String> all = snapshot.categoryNames();
            chosen = (request.categories().isEmpty() ? all : request.categories()).stream()
                    .filter(all::contains).sorted().toList();
        }
        long ranked = System.nanoTime();
        List<Hit> hits;
        int running = searching.incrementAndGet();
        try {
            hits = searchWithinCategories(snapshot, query, chosen, request, running);
        } finally {
            searching.decrementAndGet();
        }
        long searched = System.nanoTime();
        return new SearchOutcome(page(hits, request), ranking, chosen, ranked - start, searched - ranked);
    }

    /** Categories searched by helper threads so far. */
    long helped() {
        return helped.get();
    }

    /**
     * How many helper threads a search may call on: none for a single category or fewer than
     * {@link #PARALLEL_FROM} vectors, else one per thread no search is using, at most one per
     * further category.
     *
     * @param running searches in their second stage now, this one included
     */
    static int helpersFor(int categories, long vectors, int threads, int running) {
        if (categories < 2 || vectors < PARALLEL_FROM) {
            return 0;
        }
        return Math.max(0, Math.min(categories - 1, threads - running));
    }

    /** The second stage: every chosen category's best {@code offset + limit} hits, merged. */
    private List<Hit> searchWithinCategories(IndexSnapshot snapshot, float[] query, List<String> categories,
            SearchRequest request, int running) {
        int k = request.offset() + request.limit() + (request.excludeImageId() != 0 ? 1 : 0);
        List<CategoryIndex> indexes = new ArrayList<>();
        long vectors = 0;
        for (String category : categories) {
            CategoryIndex index = snapshot.category(category);
            if (index != null) { // null: a prototype without images of this model yet
                indexes.add(index);
                vectors += index.size();
            }
        }
        int helperCount = helpers == null ? 0 : helpersFor(indexes.size(), vectors, threads, running);
        if (helperCount == 0) {
            List<Hit> hits = new ArrayList<>();
            for (CategoryIndex index : indexes) {
                addHits(hits, index, index.search(query, k));
            }
            return hits;
        }
        indexes.sort(Comparator.comparingLong(CategoryIndex::size).reversed());
        Split split = new Split(indexes, query, k);
        try {
            for (int h = 0; h < helperCount; h++) {
                helpers.execute(() -> {
                    SINGLE_THREADED.get();
                    helped.addAndGet(split.searchWhatIsLeft());
                });
            }
        } catch (RejectedExecutionException e) {
            // closing: this thread searches what is left
        }
        split.searchWhatIsLeft();
        SearchResult[] results = split.await();
        List<Hit> hits = new ArrayList<>();
        for (int i = 0; i < results.length; i++) {
            addHits(hits, indexes.get(i), results[i]);
        }
        return hits;
    }

    private static void addHits(List<Hit> hits, CategoryIndex index, SearchResult result) {
        for (int r = 0, n = result.count(0); r < n; r++) {
            hits.add(new Hit(result.id(0, r), index.category(), Cosine.clamp(result.score(0, r))));
        }
    }

    /**
     * One search's categories, taken one at a time by whichever thread asks next. Only a thread
     * that has taken a category can hold up {@link #await}, which returns once every category has
     * been searched, failed ones too: the caller's lease must outlive every search of the
     * generation.
     */
    private static final class Split {
        private final List<CategoryIndex> indexes;
        private final float[] query;
        private final int k;
        private final SearchResult[] results;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final CountDownLatch done = new CountDownLatch(1);

        Split(List<CategoryIndex> indexes, float[] query, int k) {
            this.indexes = indexes;
            this.query = query;
            this.k = k;
            this.results = new SearchResult[indexes.size()];
        }

        /** Searches categories until none is left; returns how many this thread searched. */
        int searchWhatIsLeft() {
            int searched = 0;
            for (int i; (i = next.getAndIncrement()) < results.length; searched++) {
                try {
                    results[i] = indexes.get(i).search(query, k);
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);
                } finally {
                    if (finished.incrementAndGet() == results.length) {
                        done.countDown(); // publishes every slot to the awaiting thread
                    }
                }
            }
            return searched;
        }

        SearchResult[] await() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // a category may still be searched: wait it out
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable e = failure.get();
            if (e instanceof RuntimeException r) {
                throw r;
            } else if (e instanceof Error r) {
                throw r;
            }
            return results;
        }
    }

    /** Best first; without the excluded image and those under the threshold; the requested page. */
    static List<Hit> page(List<Hit> hits, SearchRequest request) {
        return hits.stream()
                .filter(h -> h.imageId() != request.excludeImageId() && h.similarity() >= request.minSimilarity())
                .sorted(BEST_FIRST)
                .skip(request.offset())
                .limit(request.limit())
                .toList();
    }

    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
        }
    }
}
