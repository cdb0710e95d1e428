package io.imsrc.query.index;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.store.VectorStore;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generation saved at FAISS_INDEX_PATH: its files ({@link IndexFiles}) and the metadata row
 * that vouches for them (table {@code faiss}), read at start and written after a build, every
 * {@code saveInterval} while the live generation changes, and at close.
 *
 * <p>Used by the refresh thread, and by {@code close} once that thread has stopped (or given up
 * waiting for it: so its methods are synchronized, and two saves never run at once); {@link
 * #lastSaveMillis} may be read from any thread.
 */
final class SavedIndex {

    private static final Logger LOG = LoggerFactory.getLogger(IndexManager.class);

    private final VectorStore store;
    private final IndexType type;
    private final Path path;
    private final Duration saveInterval;
    private volatile long lastSaveMillis;
    private boolean changed;
    /** What the last save wrote, so the next links what has not changed since. */
    private IndexFiles.Written written = IndexFiles.Written.NONE;

    SavedIndex(VectorStore store, IndexType type, Path path, Duration saveInterval) {
        this.store = store;
        this.type = type;
        this.path = path;
        this.saveInterval = saveInterval;
    }

    /**
     * The saved generation when its metadata row and its manifest match this model, index type and
     * watermark; empty when there is none or it does not fit (then the caller builds).
     */
    synchronized Optional<IndexSnapshot> load() throws SQLException {
        var saved = store.savedIndex(type.configValue(), path.toString());
        if (saved.isEmpty()) {
            return Optional.empty();
        }
        Optional<IndexFiles.Read> read = IndexFiles.read(path, store.modelId(), type);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        IndexSnapshot snapshot = read.get().snapshot();
        if (snapshot.newestSeq() != saved.get().maxSeq() || snapshot.size() != saved.get().vectorCount()) {
            snapshot.release();
            return Optional.empty();
        }
        written = read.get().written();
        return Optional.of(snapshot);
    }

    /** Notes that the live generation differs from the saved one. */
    synchronized void changed() {
        changed = true;
    }

    synchronized boolean hasChanges() {
        return changed;
    }

    /** Saves {@code snapshot} when it changed and the last save is {@code saveInterval} ago. */
    synchronized void saveIfDue(IndexSnapshot snapshot) {
        if (changed && System.currentTimeMillis() - lastSaveMillis >= saveInterval.toMillis()) {
            save(snapshot);
        }
    }

    /**
     * Saves {@code snapshot}; a failure is logged, and the next start builds instead of loading.
     * Returns whether it was saved.
     */
    synchronized boolean save(IndexSnapshot snapshot) {
        if (snapshot == null) {
            return false;
        }
        try {
            long start = System.nanoTime();
            IndexFiles.Save save = IndexFiles.save(snapshot, path, written);
            written = save.written();
            IndexFiles.Manifest manifest = save.manifest();
            store.recordSavedIndex(type.configValue(), path.toString(), manifest.vectorCount(), manifest.newestSeq(),
                    snapshot.builtAtMillis());
            lastSaveMillis = System.currentTimeMillis();
            changed = false;
            LOG.info("Saved the index ({} vectors up to sequence {}) in {} ms", manifest.vectorCount(),
                    manifest.newestSeq(), (System.nanoTime() - start) / 1_000_000);
            return true;
        } catch (IOException | SQLException | RuntimeException e) {
            // The index stays searchable; the next start rebuilds instead of loading.
            LOG.warn("Cannot save the index to {}: {}", path, e.toString());
            return false;
        }
    }

    /**
     * A generation that was just built, saved and read back from its files, or {@code built} itself
     * when it could not be saved or read. A build grows each index chunk by chunk, and FAISS's
     * arrays (an IVF index's lists above all) keep the slack of their growth, while a read
     * allocates each at its exact size: at 1,000,000 64-d vectors the server held about 150 MB
     * less after a read than after an IVF build of the same index. Frees whichever it does not
     * return. Only for a generation no search has leased yet, on the thread that changes it.
     */
    synchronized IndexSnapshot saveAndReadBack(IndexSnapshot built) {
        if (!save(built)) {
            return built;
        }
        IndexFiles.Read files;
        try {
            files = IndexFiles.read(path, store.modelId(), type).orElse(null);
        } catch (RuntimeException e) {
            LOG.warn("Cannot read back the index just saved to {}: {}", path, e.toString());
            files = null;
        }
        IndexSnapshot read = files == null ? null : files.snapshot();
        if (read == null || read.size() != built.size() || read.newestSeq() != built.newestSeq()) {
            if (read != null) {
                read.release();
            }
            written = IndexFiles.Written.NONE; // files that did not read back are never linked
            return built;
        }
        written = files.written();
        read.replacePrototypes(built.prototypes());
        built.release();
        return read;
    }

    long lastSaveMillis() {
        return lastSaveMillis;
    }
}
