package io.imsrc.common.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Downloads a URL once into a cache folder: through a temporary file beside the target that is
 * moved into place only when it is complete (and, when a checksum is known, only when it matches),
 * so an interrupted or corrupted download is never taken for the real file. The one place imsrc
 * fetches models and data sets from the network.
 *
 * <p>Thread-safe; two processes downloading the same file at once each write their own temporary
 * file and the last atomic move wins, with identical content.
 */
public final class Downloads {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(30);

    private Downloads() {}

    /** Whether {@code location} is an http(s) URL rather than a path. */
    public static boolean isUrl(String location) {
        String lower = location.toLowerCase(Locale.ROOT);
        return lower.startsWith("http://") || lower.startsWith("https://");
    }

    /**
     * The file {@code uri} is cached as in {@code cacheDir}: the URL's file name prefixed with a hash
     * of the whole URL, so two URLs never share a file.
     */
    public static Path cachePath(URI uri, Path cacheDir) {
        String path = uri.getPath() == null ? "" : uri.getPath();
        String fileName = path.substring(path.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        if (fileName.isEmpty()) {
            fileName = "download";
        }
        byte[] hash = digest("SHA-256").digest(uri.toString().getBytes(StandardCharsets.UTF_8));
        return cacheDir.resolve(HexFormat.of().formatHex(hash, 0, 8) + "-" + fileName);
    }

    /**
     * Returns {@code target}, downloading {@code uri} into it first unless it already exists.
     *
     * @param expectedMd5 the MD5 the content must have (hex, any case), or {@code null} for none
     * @throws IOException naming the URL when the server cannot be reached, answers other than 200,
     *     or sends content whose MD5 differs; nothing is left at {@code target} then
     */
    public static Path fetch(URI uri, Path target, String expectedMd5) throws IOException {
        if (Files.isRegularFile(target)) {
            return target;
        }
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        HttpClient client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET().build();
        Path partial = Files.createTempFile(dir, target.getFileName().toString(), ".part");
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            MessageDigest md5 = digest("MD5");
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new IOException("downloading " + uri + " failed with HTTP " + response.statusCode());
                }
                try (OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), md5)) {
                    body.transferTo(out);
                }
            }
            if (expectedMd5 != null) {
                String actual = HexFormat.of().formatHex(md5.digest());
                if (!actual.equalsIgnoreCase(expectedMd5)) {
                    throw new IOException("the download from " + uri + " has MD5 " + actual + ", expected "
                            + expectedMd5.toLowerCase(Locale.ROOT) + " (corrupted or a different file)");
                }
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + uri, e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains(uri.toString())) {
                throw e;
            }
            throw new IOException("cannot download " + uri + ": " + e, e);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** The hex MD5 of a file's content. */
    public static String md5(Path file) throws IOException {
        MessageDigest md5 = digest("MD5");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                md5.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md5.digest());
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java runtime has " + algorithm, e);
        }
    }
}
