package io.imsrc.common.embed;

import io.imsrc.common.io.Downloads;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Turns a model location (a path or an http(s) URL) into a local file. A URL is downloaded once
 * into the cache folder under a name derived from the URL, through a temporary file that is moved
 * into place only when complete, so an interrupted download is never taken for a model.
 *
 * <p>The download is {@link Downloads#fetch}. DJL's own downloader is never used: with {@code
 * ai.djl.offline=true} it would refuse, and imsrc wants one place that says where files come from.
 */
public final class ModelLocator {

    private ModelLocator() {}

    public static Path resolve(String location, Path cacheDir) throws IOException {
        if (Downloads.isUrl(location)) {
            return download(URI.create(location), cacheDir);
        }
        Path file = Path.of(location);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toAbsolutePath().toString(), null, "model file not found");
        }
        return file;
    }

    private static Path download(URI uri, Path cacheDir) throws IOException {
        return Downloads.fetch(uri, Downloads.cachePath(uri, cacheDir), null);
    }
}
