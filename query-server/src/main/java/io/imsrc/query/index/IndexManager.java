package io.imsrc.query.index;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.io.Futures;
import io.imsrc.query.health.HealthCheck;
import io.imsrc.query.health.SupervisedLoop;
import io.imsrc.query.health.WorkerHealth;
import io.imsrc.query.store.Database;
import io.imsrc.query.store.VectorStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the FAISS indexes in step with PostgreSQL.
 *
 * <ul>
 *   <li><b>Start</b>: loads the index saved at FAISS_INDEX_PATH when its metadata row (table {@code
 *       faiss}) and its manifest match this model, index type and watermark, adds what committed
 *       below the watermark after the save, and catches up from there; otherwise builds from all
 *       vectors. Until then the manager is not ready and searches are refused.
 *   <li><b>Refresh</b>: a thread of its own LISTENs for the ingest job's notifications (schema V2)
 *       and otherwise polls every INDEX_REFRESH_MS; each refresh reads the vectors above the
 *       watermark and the {@link HoleTracker holes} below it and adds the ones not held, and
 *       re-reads the prototypes. A vector is searchable within moments of its commit.
 *   <li><b>Failures</b>: the refresh thread is a {@link SupervisedLoop}: no failure stops it (an
 *       Error neither), it backs off and tries again, and while PostgreSQL is away searches go on
 *       from the index as it is. A failed LISTEN is retried with its own backoff while the thread
 *       polls. {@link #healthChecks} say which of these fails, and since when, for /health/ready.
 *   <li><b>Rebuild</b>: on demand ({@link #rebuild}), a new generation is built on another thread
 *       from all vectors, caught up, and swapped in atomically; searches keep using the old one
 *       until they finish, so none sees a half-built index and none waits.
 *   <li><b>Persistence</b>: the generation is saved after a build, every minute while it changes,
 *       and at close.
 * </ul>
 *
 * <p>The parts with state of their own are classes of their own: {@link ChangeListener} (the LISTEN
 * connection), {@link GenerationBuilder} (reading PostgreSQL into a generation), {@link SavedIndex}
 * (the files at FAISS_INDEX_PATH and their metadata row). What stays here is the lifecycle and the
 * protocol between the refresh thread, the rebuild thread and searches, kept in one class (a little
 * over 300 lines) so that the thread rules below can be checked in one place.
 *
 * <p>Thread-safety: {@link #lease}, {@link #status}, {@link #rebuild} and {@link #close} may be
 * called from any thread. Only the refresh thread changes the live generation.
 */
public final class IndexManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IndexManager.class);

    /**
     * How the manager runs.
     *
     * @param type FAISS_INDEX_TYPE
     * @param indexPath FAISS_INDEX_PATH
     * @param dimension the model's embedding dimension
     * @param pollInterval INDEX_REFRESH_MS: the refresh when no notification comes
     * @param holeTimeout how long a skipped sequence number is looked for (see {@link HoleTracker})
     * @param saveInterval how often a changing index is saved
     */
    public record Settings(IndexType type, Path indexPath, int dimension, Duration pollInterval, Duration holeTimeout,
            Duration saveInterval) {
        public Settings {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(indexPath, "indexPath");
            if (dimension < 1) {
                throw new IllegalArgumentException("dimension must be positive");
            }
        }

        public static Settings of(IndexType type, Path indexPath, int dimension, Duration pollInterval) {
            return new Settings(type, indexPath, dimension, pollInterval, Duration.ofSeconds(30), Duration.ofMinutes(1));
        }
    }

    /** What {@link #status} reports. */
    public record Status(boolean ready, String modelId, String indexType, long vectors, int categories,
            long newestSearchableSeq, long newestSearchableCreatedAtMillis, long lastRefreshMillis, long builtAtMillis,
            long lastSaveMillis, boolean rebuilding, int pendingHoles, String lastError) {}

    /** A generation held for the length of one search; closing it again does nothing. */
    public static final class Lease implements AutoCloseable {
        private final IndexSnapshot snapshot;
        private final AtomicBoolean released = new AtomicBoolean();

        private Lease(IndexSnapshot snapshot) {
            this.snapshot = snapshot;
        }

        public IndexSnapshot snapshot() {
            return snapshot;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                snapshot.release();
            }
        }
    }

    private final VectorStore store;
    private final Settings settings;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ExecutorService rebuilder = Executors.newSingleThreadExecutor(daemon("index-rebuild"));
    private final SupervisedLoop refresher;
    private final GenerationBuilder builder;
    // The refresh thread's own; close() uses them once that thread has stopped.
    private final ChangeListener listener;
    private final SavedIndex saved;
    private HoleTracker holes;
    private volatile IndexSnapshot live;
    private volatile boolean closed;
    private volatile long lastRefreshMillis;
    private volatile int pendingHoles;
    private CompletableFuture<Status> rebuilding; // guarded by this
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    public IndexManager(Database database, VectorStore store, Settings settings) {
        Objects.requireNonNull(database, "database");
        this.store = Objects.requireNonNull(store, "store");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.builder = new GenerationBuilder(store, settings.type(), settings.dimension(), settings.holeTimeout());
        this.listener = new ChangeListener(database, settings.pollInterval());
        this.saved = new SavedIndex(store, settings.type(), settings.indexPath(), settings.saveInterval());
        this.holes = builder.newHoleTracker();
        this.refresher = new SupervisedLoop("index-refresh",
                new WorkerHealth("index refresh", "searches are answered from the index as it is", LOG), this::turn);
    }

    /** Starts loading (or building) and refreshing in the background. */
    public IndexManager start() {
        refresher.start();
        return this;
    }

    /** Waits until the first generation is searchable. */
    public void awaitReady(Duration timeout) throws InterruptedException, TimeoutException {
        try {
            ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(Futures.cause(e));
        }
    }

    public boolean isReady() {
        return live != null;
    }

    /**
     * The live generation, held until the lease is closed.
     *
     * @throws IndexNotReadyException before the first generation is loaded or built
     */
    public Lease lease() {
        while (true) {
            IndexSnapshot snapshot = live;
            if (snapshot == null) {
                throw new IndexNotReadyException(lastError()
                        .map(e -> "the index is not ready: " + e)
                        .orElse("the index is still being loaded or built"));
            }
            if (snapshot.tryAcquire()) {
                return new Lease(snapshot);
            }
            // Retired by a swap between the read and the acquire: the next read sees its successor.
        }
    }

    /**
     * Builds a new generation from all vectors beside the live one and swaps it in. A rebuild asked
     * for while one runs joins it.
     */
    public synchronized CompletableFuture<Status> rebuild() {
        if (rebuilding != null) {
            return rebuilding;
        }
        CompletableFuture<Status> done = new CompletableFuture<>();
        rebuilding = done;
        // Any Throwable ends the rebuild, so the future completes and the next rebuild can start; the
        // live generation stays.
        rebuilder.execute(() -> {
            try {
                GenerationBuilder.Built next = builder.build();
                tasks.add(() -> {
                    try {
                        swapIn(next);
                        finishRebuild(done, null);
                    } catch (Throwable e) {
                        next.snapshot().release();
                        finishRebuild(done, e);
                    }
                });
            } catch (Throwable e) {
                finishRebuild(done, e);
            }
        });
        return done;
    }

    private synchronized void finishRebuild(CompletableFuture<Status> done, Throwable failure) {
        rebuilding = null;
        if (failure == null) {
            done.complete(status());
        } else {
            LOG.error("Rebuilding the index failed", failure);
            done.completeExceptionally(failure);
        }
    }

    public Status status() {
        IndexSnapshot snapshot = live;
        boolean rebuildRunning;
        synchronized (this) {
            rebuildRunning = rebuilding != null;
        }
        String lastError = lastError().orElse(null);
        if (snapshot == null) {
            return new Status(false, store.modelId(), settings.type().configValue(), 0, 0, 0, 0, lastRefreshMillis, 0,
                    saved.lastSaveMillis(), rebuildRunning, pendingHoles, lastError);
        }
        return new Status(true, snapshot.modelId(), snapshot.type().configValue(), snapshot.size(),
                snapshot.categoryNames().size(), snapshot.newestSeq(), snapshot.newestCreatedAtMillis(),
                lastRefreshMillis, snapshot.builtAtMillis(), saved.lastSaveMillis(), rebuildRunning, pendingHoles,
                lastError);
    }

    /** Why the last load, build or refresh failed, while the refresh thread has not succeeded since. */
    private Optional<String> lastError() {
        return refresher.health().failure();
    }

    /**
     * What /health/ready asks of the index: whether a generation is loaded ({@code index}), whether
     * the refresh thread keeps it in step ({@code index_refresh}), and whether it hears of changes at
     * once ({@code index_listener}).
     */
    public List<HealthCheck> healthChecks() {
        HealthCheck loaded = new HealthCheck() {
            @Override
            public String name() {
                return "index";
            }

            @Override
            public Optional<String> problem() {
                return live != null || closed ? Optional.empty()
                        : Optional.of("the index is still being loaded or built; searches answer 503 until it is");
            }
        };
        return List.of(loaded, refresher, listener.health());
    }

    // ---- the refresh thread ----

    /** One turn of the refresh thread; the {@link SupervisedLoop} reports its failures and backs off. */
    private void turn() throws Exception {
        if (live == null) {
            initialize();
            ready.complete(null);
        }
        listener.listen();
        listener.awaitChange();
        if (closed) {
            return;
        }
        for (Runnable task; (task = tasks.poll()) != null; ) {
            task.run();
        }
        refresh();
        saved.saveIfDue(live);
    }

    private void initialize() throws Exception {
        long start = System.nanoTime();
        IndexSnapshot loaded = saved.load().orElse(null);
        if (loaded != null) {
            long missing = builder.addMissedBelow(loaded);
            live = loaded;
            LOG.info("Loaded the saved index ({} vectors up to sequence {}) in {} ms, {} added that committed after "
                    + "the save", loaded.size(), loaded.newestSeq(), (System.nanoTime() - start) / 1_000_000, missing);
            if (missing > 0) {
                saved.changed();
            }
        } else {
            GenerationBuilder.Built built = builder.build();
            long builtNanos = System.nanoTime() - start;
            live = saved.saveAndReadBack(built.snapshot());
            holes = built.holes();
            LOG.info("Built the {} index: {} vectors in {} categories in {} ms ({}; saved and read back in {} ms)",
                    settings.type().configValue(), live.size(), live.categoryNames().size(), builtNanos / 1_000_000,
                    built.times(), (System.nanoTime() - start - builtNanos) / 1_000_000);
        }
        // Ready means caught up: what committed above the watermark while the server was down too.
        refresh();
    }

    private void refresh() throws Exception {
        long now = System.currentTimeMillis();
        catchUp(live, holes, now);
        lastRefreshMillis = now;
    }

    private void catchUp(IndexSnapshot snapshot, HoleTracker tracker, long now) throws Exception {
        if (builder.catchUp(snapshot, tracker, now) > 0) {
            saved.changed();
        }
        pendingHoles = tracker.size();
        // After the change is noted: a failed read of the prototypes must not lose it.
        builder.refreshPrototypes(snapshot);
    }

    /** On the refresh thread: brings a rebuilt generation up to date and makes it the live one. */
    private void swapIn(GenerationBuilder.Built next) throws Exception {
        catchUp(next.snapshot(), next.holes(), System.currentTimeMillis());
        IndexSnapshot fresh = saved.saveAndReadBack(next.snapshot()); // frees the one it does not return
        IndexSnapshot old = live;
        live = fresh;
        holes = next.holes();
        if (old != null) {
            old.release();
        }
        LOG.info("Swapped in the rebuilt index: {} vectors ({})", live.size(), next.times());
    }

    /** Stops refreshing, saves the live generation and frees it once no search holds it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        refresher.close();
        listener.close();
        rebuilder.shutdownNow();
        IndexSnapshot snapshot = live;
        if (snapshot != null) {
            if (saved.hasChanges()) {
                saved.save(snapshot);
            }
            live = null;
            snapshot.release();
        }
        ready.completeExceptionally(new IllegalStateException("the index manager is closed"));
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
