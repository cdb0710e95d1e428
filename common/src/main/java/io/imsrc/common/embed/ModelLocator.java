package io.imsrc.common.embed;

import io.imsrc.common.io.Downloads;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * Turns a model location (a path, an http(s) URL, or {@code classpath:} and a resource for a model
 * imsrc ships) into a local file. A URL is downloaded once into the cache folder under a name
 * derived from the URL, through a temporary file that is moved into place only when complete, so
 * an interrupted download is never taken for a model; a bundled model is copied out of the class
 * path into the cache folder the same way. Every process (the launcher, a Flink task manager, a
 * query server) resolves a URL or a bundled model itself, so none depends on another's files.
 *
 * <p>The download is {@link Downloads#fetch}. DJL's own downloader is never used: with {@code
 * ai.djl.offline=true} it would refuse, and imsrc wants one place that says where files come from.
 */
public final class ModelLocator {

    /** The prefix of a bundled model's location: {@code classpath:} and its resource name. */
    public static final String CLASSPATH = "classpath:";

    private ModelLocator() {}

    public static Path resolve(String location, Path cacheDir) throws IOException {
        if (Downloads.isUrl(location)) {
            return download(URI.create(location), cacheDir);
        }
        if (isBundled(location)) {
            return extract(location.substring(CLASSPATH.length()), cacheDir);
        }
        if (location.startsWith(ZooModels.SCHEME)) {
            // ZooModels needs DJL's repository classes, which a Flink client submitting the job
            // may not have: it is touched only for a zoo model (SCHEME is a constant, inlined).
            return ZooModels.resolve(location, cacheDir);
        }
        Path file = Path.of(location);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toAbsolutePath().toString(), null, "model file not found");
        }
        return file;
    }

    /** Whether {@code location} names a model file imsrc carries on its class path. */
    public static boolean isBundled(String location) {
        return location.startsWith(CLASSPATH);
    }

    /**
     * Copies a bundled model file out of the class path into {@code cacheDir}, once: a copy with the
     * same bytes is reused, anything else there is replaced (through a temporary file, so a crash
     * never leaves half a model). A file keeps its name, so its model id is the same as the
     * resource's. Where {@code cacheDir} cannot be written, the copy goes to the temporary folder.
     */
    private static Path extract(String resource, Path cacheDir) throws IOException {
        byte[] bytes;
        try (InputStream in = ModelLocator.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new NoSuchFileException(CLASSPATH + resource, null, "not on the class path (a broken build?)");
            }
            bytes = in.readAllBytes();
        }
        try {
            return extract(bytes, cacheDir.resolve(Path.of(resource).getFileName().toString()));
        } catch (IOException e) {
            // A task manager may not be able to write the DATA_DIR the job was configured with.
            Path fallback = Path.of(System.getProperty("java.io.tmpdir"), "imsrc-models");
            try {
                return extract(bytes, fallback.resolve(Path.of(resource).getFileName().toString()));
            } catch (IOException more) {
                e.addSuppressed(more);
                throw e;
            }
        }
    }

    private static Path extract(byte[] bytes, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                && Arrays.equals(Files.readAllBytes(target), bytes)) {
            return target;
        }
        Path folder = target.getParent();
        Files.createDirectories(folder);
        Path temporary = Files.createTempFile(folder, target.getFileName().toString(), ".tmp");
        try {
            Files.write(temporary, bytes);
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
        return target;
    }

    private static Path download(URI uri, Path cacheDir) throws IOException {
        return Downloads.fetch(uri, Downloads.cachePath(uri, cacheDir), null);
    }
}
