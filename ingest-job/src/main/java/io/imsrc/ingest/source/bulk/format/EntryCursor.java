package io.imsrc.ingest.source.bulk.format;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/**
 * Walks the entries of one split in order, from the split's position. Not thread-safe: one cursor
 * per split, used by the reader's fetcher thread only; the content of an entry is readable until
 * the next call to {@link #next}.
 */
public interface EntryCursor extends Closeable {

    /** The next entry, or {@code null} after the last. */
    Entry next() throws IOException;

    /**
     * One entry of a split.
     *
     * @param index its entry index (a folder: the position in its file list; an archive: its entry number, directories included; a CIFAR batch: the record number)
     * @param path its path within the folder or archive (a CIFAR batch's member name)
     * @param regularFile whether it is a file (not a directory, link or device)
     * @param size its size in bytes, or -1 when the container does not say
     * @param content opens its bytes; for a file that vanished or cannot be read, the failure comes
     *     from here, so that it becomes a dead letter instead of failing the split
     */
    record Entry(long index, String path, boolean regularFile, long size, ContentSupplier content) {}

    /** Opens an entry's content; the stream belongs to the cursor when the cursor says so. */
    @FunctionalInterface
    interface ContentSupplier {
        InputStream open() throws IOException;
    }
}
