package io.imsrc.ingest.source.bulk;

import java.util.Objects;

/**
 * A bulk source as a user names it: a location and, optionally, a root inside it, written {@code
 * LOCATION[#ROOT]} on the command line and in CIFAR10_SOURCE.
 *
 * <p>The location is a path or an http(s) URL of: the CIFAR-10 binary archive
 * (cifar-10-binary.tar.gz) or its unpacked {@code cifar-10-batches-bin} folder; or a labelled image
 * folder or archive (a directory, .tar, .tar.gz or .zip) where an image's category is the name of
 * the directory directly above it. The root selects part of it: a folder inside the image folder or
 * archive ({@code cifar-10-jpg.tar.gz#cifar-10-jpg/train}), or {@code train} / {@code test} for the
 * CIFAR-10 binary archive. A {@code #} is used rather than jar URLs' {@code !/} because an
 * interactive shell expands {@code !}.
 *
 * @param location a path or URL
 * @param root a relative path inside the location, without leading or trailing slashes; empty for
 *     all of it
 * @param watch keep watching a folder and ingest images that appear in it (folders only)
 * @param limit ingest at most this many images, spread evenly over the source (so a limit still
 *     covers every class of a folder sorted by class); 0 for no limit
 */
public record BulkSourceSpec(String location, String root, boolean watch, long limit) {

    public BulkSourceSpec {
        Objects.requireNonNull(location, "location");
        if (location.isBlank()) {
            throw new IllegalArgumentException("a source location must not be blank");
        }
        root = normalizeRoot(root);
        if (limit < 0) {
            throw new IllegalArgumentException("the image limit must be 0 (none) or positive, got " + limit);
        }
        if (watch && limit > 0) {
            throw new IllegalArgumentException("a watched folder has no end, so it cannot have an image limit");
        }
    }

    /** Parses {@code LOCATION[#ROOT]}. */
    public static BulkSourceSpec parse(String text) {
        Objects.requireNonNull(text, "text");
        int hash = text.lastIndexOf('#');
        if (hash < 0) {
            return new BulkSourceSpec(text, "", false, 0);
        }
        return new BulkSourceSpec(text.substring(0, hash), text.substring(hash + 1), false, 0);
    }

    public BulkSourceSpec watching() {
        return new BulkSourceSpec(location, root, true, limit);
    }

    public BulkSourceSpec withLimit(long newLimit) {
        return new BulkSourceSpec(location, root, watch, newLimit);
    }

    static String normalizeRoot(String root) {
        if (root == null) {
            return "";
        }
        String r = root.replace('\\', '/').trim();
        while (r.startsWith("./")) {
            r = r.substring(2);
        }
        while (r.startsWith("/")) {
            r = r.substring(1);
        }
        while (r.endsWith("/")) {
            r = r.substring(0, r.length() - 1);
        }
        if (r.equals(".")) {
            return "";
        }
        for (String part : r.split("/")) {
            if (part.equals("..")) {
                throw new IllegalArgumentException("a source root must stay inside its source, got '" + root + "'");
            }
        }
        return r;
    }

    @Override
    public String toString() {
        return location + (root.isEmpty() ? "" : "#" + root) + (watch ? " (watched)" : "")
                + (limit > 0 ? " (at most " + limit + " images)" : "");
    }
}
