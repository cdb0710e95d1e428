package io.imsrc.ingest.source.bulk.format;

/**
 * Which entries of an image folder or archive are images to ingest, and their labels. Pure
 * functions of the entry's path, shared by the planner and the reader so both pick the same
 * entries.
 */
public final class ImageEntries {

    private ImageEntries() {}

    /**
     * Whether a file at {@code path} (relative to the folder or archive, '/'-separated) is read:
     * under the root, and neither hidden nor macOS resource-fork debris ({@code .DS_Store}, {@code
     * __MACOSX/}). Non-image files under the root are read, and become dead letters that say what
     * they are.
     */
    public static boolean eligible(String path, String root) {
        if (!underRoot(path, root)) {
            return false;
        }
        for (String part : path.split("/")) {
            if (part.startsWith(".") || part.equals("__MACOSX")) {
                return false;
            }
        }
        return true;
    }

    public static boolean underRoot(String path, String root) {
        return root.isEmpty() || path.startsWith(root + "/");
    }

    /**
     * The category of an image: the name of the directory directly above it, or {@code null} for an
     * image directly in the root, whose category the model predicts.
     */
    public static String label(String path, String root) {
        String relative = root.isEmpty() ? path : path.substring(root.length() + 1);
        int last = relative.lastIndexOf('/');
        if (last < 0) {
            return null;
        }
        int previous = relative.lastIndexOf('/', last - 1);
        return relative.substring(previous + 1, last);
    }
}
