package io.imsrc.ingest.source.bulk;

import io.imsrc.ingest.source.bulk.format.Container;
import java.io.Serializable;
import java.util.Objects;

/**
 * A {@link BulkSourceSpec} made local and checked: a URL is downloaded into the cache, the location
 * exists and its container is known. What the job's source and planner work from.
 *
 * @param name how the user named the source, for logs and errors
 * @param path the absolute local path of the directory or archive
 * @param container what holds the entries
 * @param gzip whether a tar archive is gzip-compressed
 * @param root the root inside the location ({@link BulkSourceSpec#root()})
 * @param watch whether a directory is watched for new images
 * @param limit at most this many images, 0 for all
 * @param maxImageBytes files larger than this are refused unread (TOO_LARGE)
 */
public record ResolvedBulkSource(
        String name, String path, Container container, boolean gzip, String root, boolean watch, long limit,
        long maxImageBytes) implements Serializable {

    public ResolvedBulkSource {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(root, "root");
        if (watch && container != Container.DIRECTORY) {
            throw new IllegalArgumentException("only a folder can be watched, " + name + " is an archive");
        }
        if (maxImageBytes < 1) {
            throw new IllegalArgumentException("maxImageBytes must be positive");
        }
    }
}
