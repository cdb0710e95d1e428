package io.imsrc.common.record;

import java.util.Locale;

/**
 * Where an image came from: the images table's {@code source} column and the dead-letter table's
 * {@code source}. The stored names are the lower-case constants; keep them stable.
 */
public enum SourceKind {
    /** The CIFAR-10 binary archive (pixels stored as PNG). */
    CIFAR10,
    /** A labelled image folder or archive (.tar, .tar.gz, .zip), watched or read once. */
    FOLDER,
    /** One upload over HTTP, carried by Kafka. */
    UPLOAD;

    /** The name stored in PostgreSQL. */
    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
