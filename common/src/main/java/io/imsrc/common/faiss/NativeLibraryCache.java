package io.imsrc.common.faiss;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Locale;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps JavaCPP from loading a stale copy of imsrc's JNI library.
 *
 * <p>JavaCPP extracts a native library from its jar into a cache ({@code ~/.javacpp/cache/<jar
 * file name>/<path in the jar>}) and reuses the copy while its size and modification time equal
 * the jar entry's. imsrc's build is reproducible, so every entry of its jars carries the same fixed
 * time, and the jar's name stays the same from one build of a version to the next. A rebuilt
 * {@code libjniFaissLibrary.so} of the same size (sizes come in whole pages, so a small change to
 * the bindings keeps it) then looked current, and JavaCPP loaded the old one: the first call of a
 * new binding failed with an UnsatisfiedLinkError. This replaces a cached copy whose CRC-32 differs
 * from the jar entry's with the jar's.
 */
final class NativeLibraryCache {
    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraryCache.class);

    private NativeLibraryCache() {}

    /**
     * Replaces JavaCPP's cached copy of {@code resource} with the jar's when the two differ; does
     * nothing for a library loaded in place (from a directory), one not cached yet, or with
     * JavaCPP's library cache turned off, and only logs when the check itself fails (JavaCPP then
     * loads what it would have loaded anyway).
     *
     * <p>It holds the lock JavaCPP holds while it extracts into the cache (the JVM's {@code
     * Runtime} and a file lock on the cache's {@code .lock}), so it never reads a copy another JVM
     * is still writing; and it replaces the copy by an atomic rename of a complete one rather than
     * deleting it, so a JVM that has checked the copy and is about to load it always finds one.
     */
    static void replaceStaleCopy(URL resource) {
        if (resource == null || !"jar".equals(resource.getProtocol()) || !cachesLibraries()) {
            return;
        }
        try {
            JarURLConnection connection = (JarURLConnection) resource.openConnection();
            Path jar = Path.of(connection.getJarFileURL().toURI());
            String entryName = connection.getEntryName();
            Path cacheDir = Loader.getCacheDir().toPath();
            Path cached = cachedCopy(cacheDir, jar, entryName, noSubdirectory());
            synchronized (Runtime.getRuntime()) {
                try (FileChannel lockFile = FileChannel.open(cacheDir.resolve(".lock"),
                                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        FileLock lock = lockFile.lock()) {
                    replaceIfStale(jar, entryName, cached);
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            LOG.warn("Could not check JavaCPP's cached copy of {}: {}", resource, e.toString());
        }
    }

    private static void replaceIfStale(Path jar, String entryName, Path cached) throws IOException {
        if (!Files.isRegularFile(cached)) {
            return;
        }
        try (JarFile file = new JarFile(jar.toFile())) {
            JarEntry entry = file.getJarEntry(entryName);
            if (entry == null || entry.getCrc() == -1 || crc32(cached) == entry.getCrc()) {
                return;
            }
            Path fresh = Files.createTempFile(cached.getParent(), cached.getFileName().toString(), ".tmp");
            try {
                try (InputStream in = file.getInputStream(entry)) {
                    Files.copy(in, fresh, StandardCopyOption.REPLACE_EXISTING);
                }
                // As JavaCPP dates its copies, so that it takes this one as current.
                Files.setLastModifiedTime(fresh, FileTime.fromMillis(entry.getTime()));
                Files.move(fresh, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(fresh);
            }
            LOG.info("JavaCPP's cached {} was not the one in {}: replaced by it", cached, jar);
        }
    }

    /**
     * Where JavaCPP caches {@code entryName} of {@code jar} under {@code cacheDir}: in a folder named
     * after the jar, at the entry's path; or, with {@code org.bytedeco.javacpp.cachedir.nosubdir},
     * directly in {@code cacheDir} under the entry's file name.
     */
    static Path cachedCopy(Path cacheDir, Path jar, String entryName, boolean noSubdirectory) {
        return noSubdirectory
                ? cacheDir.resolve(Path.of(entryName).getFileName().toString())
                : cacheDir.resolve(jar.getFileName().toString()).resolve(entryName);
    }

    /** JavaCPP's own reading of org.bytedeco.javacpp.cachelibraries (default true). */
    private static boolean cachesLibraries() {
        String value = System.getProperty("org.bytedeco.javacpp.cachelibraries", "true").toLowerCase(Locale.ROOT);
        value = System.getProperty("org.bytedeco.javacpp.cacheLibraries", value).toLowerCase(Locale.ROOT);
        return value.equals("true") || value.equals("t") || value.isEmpty();
    }

    /** JavaCPP's own reading of org.bytedeco.javacpp.cachedir.nosubdir (default false). */
    private static boolean noSubdirectory() {
        String value = System.getProperty("org.bytedeco.javacpp.cachedir.nosubdir", "false").toLowerCase(Locale.ROOT);
        return value.equals("true") || value.equals("t") || value.isEmpty();
    }

    private static long crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                crc.update(buffer, 0, n);
            }
        }
        return crc.getValue();
    }
}
