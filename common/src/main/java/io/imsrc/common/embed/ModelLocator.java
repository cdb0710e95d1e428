package io.imsrc.common.embed;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Turns a model location (a path or an http(s) URL) into a local file. A URL is downloaded once
 * into the cache folder under a name derived from the URL, through a temporary file that is moved
 * into place only when complete, so an interrupted download is never taken for a model.
 *
 * <p>DJL's own downloader is never used: with {@code ai.djl.offline=true} it would refuse, and
 * imsrc wants one place that says where model files come from.
 */
public final class ModelLocator {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private ModelLocator() {}

    public static Path resolve(String location, Path cacheDir) throws IOException {
        String lower = location.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return download(URI.create(location), cacheDir);
        }
        Path file = Path.of(location);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toAbsolutePath().toString(), null, "model file not found");
        }
        return file;
    }

    private static Path download(URI uri, Path cacheDir) throws IOException {
        Path target = cacheDir.resolve(cacheName(uri));
        if (Files.isRegularFile(target)) {
            return target;
        }
        Files.createDirectories(cacheDir);
        HttpClient client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build();
        Path partial = Files.createTempFile(cacheDir, target.getFileName().toString(), ".part");
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new IOException("downloading the model from " + uri + " failed with HTTP " + response.statusCode());
                }
                Files.copy(body, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading the model from " + uri, e);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** The URL's file name, prefixed with a hash of the whole URL so two URLs never share a file. */
    static String cacheName(URI uri) {
        String path = uri.getPath() == null ? "" : uri.getPath();
        String fileName = path.substring(path.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        if (fileName.isEmpty()) {
            fileName = "model.pt";
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(uri.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 8) + "-" + fileName;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
