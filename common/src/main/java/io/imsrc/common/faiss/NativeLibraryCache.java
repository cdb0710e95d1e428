package io.imsrc.common.faiss;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * new binding failed with an UnsatisfiedLinkError. This removes a cached copy whose CRC-32 differs
 * from the jar entry's, so JavaCPP extracts the library again.
 */
final class NativeLibraryCache {
    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraryCache.class);

    private NativeLibraryCache() {}

    /**
     * Removes JavaCPP's cached copy of {@code resource} when it is not the jar's; does nothing for a
     * library loaded in place (from a directory) or not cached yet, and only logs when the check
     * itself fails (JavaCPP then loads what it would have loaded anyway).
     */
    static void dropStaleCopy(URL resource) {
        if (resource == null || !"jar".equals(resource.getProtocol())) {
            return;
        }
        try {
            JarURLConnection connection = (JarURLConnection) resource.openConnection();
            Path jar = Path.of(connection.getJarFileURL().toURI());
            String entryName = connection.getEntryName();
            Path cached = cachedCopy(Loader.getCacheDir().toPath(), jar, entryName);
            if (!Files.isRegularFile(cached)) {
                return;
            }
            long expected;
            try (JarFile file = new JarFile(jar.toFile())) {
                JarEntry entry = file.getJarEntry(entryName);
                if (entry == null || entry.getCrc() == -1) {
                    return;
                }
                expected = entry.getCrc();
            }
            if (crc32(cached) != expected) {
                LOG.info("JavaCPP's cached {} is not the one in {}: removed, to be extracted again", cached, jar);
                Files.deleteIfExists(cached);
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            LOG.warn("Could not check JavaCPP's cached copy of {}: {}", resource, e.toString());
        }
    }

    /** Where JavaCPP caches {@code entryName} of {@code jar} under {@code cacheDir}. */
    static Path cachedCopy(Path cacheDir, Path jar, String entryName) {
        return cacheDir.resolve(jar.getFileName().toString()).resolve(entryName);
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
