package io.imsrc.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * The read-only shared folder beside the checkout (models, data sets), as Maven passes it in the
 * {@code imsrc.shared.dir} system property. A missing folder fails the test with a message that
 * says where it was looked for: tests that need the real model must not pass by skipping.
 */
public final class SharedFiles {

    private SharedFiles() {}

    public static Path sharedDir() {
        String property = System.getProperty("imsrc.shared.dir");
        Path dir = Path.of(property == null ? "../shared" : property).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir.resolve("models"))) {
            throw new AssertionError("the shared folder with models/ and datasets/ is missing: looked in " + dir
                    + " (set -Dimsrc.shared.dir=PATH; it sits beside the checkout as ../shared)");
        }
        return dir;
    }

    public static Path model(String fileName) {
        return existing(sharedDir().resolve("models").resolve(fileName));
    }

    public static Path cifar10JpgArchive() {
        return existing(sharedDir().resolve("datasets").resolve("cifar-10-jpg.tar.gz"));
    }

    /**
     * Reads the named entries of a .tar.gz in one pass, without extracting anything to disk.
     *
     * @throws AssertionError when an entry is not in the archive
     */
    public static Map<String, byte[]> readTarEntries(Path archive, Collection<String> names) throws IOException {
        Set<String> wanted = new HashSet<>(names);
        Map<String, byte[]> found = new LinkedHashMap<>();
        try (InputStream file = Files.newInputStream(archive);
                TarArchiveInputStream tar =
                        new TarArchiveInputStream(new GzipCompressorInputStream(new BufferedInputStream(file)))) {
            TarArchiveEntry entry;
            while (found.size() < wanted.size() && (entry = tar.getNextEntry()) != null) {
                String name = entry.getName().startsWith("./") ? entry.getName().substring(2) : entry.getName();
                if (entry.isFile() && wanted.contains(name)) {
                    found.put(name, tar.readAllBytes());
                }
            }
        }
        Set<String> missing = new HashSet<>(wanted);
        missing.removeAll(found.keySet());
        if (!missing.isEmpty()) {
            throw new AssertionError(archive + " lacks " + missing);
        }
        return found;
    }

    private static Path existing(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AssertionError("missing shared file " + file);
        }
        return file;
    }
}
