package io.imsrc.ingest.source.bulk.format;

/** What holds a bulk source's entries. */
public enum Container {
    /** A directory on the file system. */
    DIRECTORY,
    /** A tar archive, gzip-compressed or not. */
    TAR,
    /** A zip archive. */
    ZIP
}
