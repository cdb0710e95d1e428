package io.imsrc.ingest.source.bulk;

import io.imsrc.common.io.Downloads;
import io.imsrc.ingest.source.bulk.format.Cifar10Binary;
import io.imsrc.ingest.source.bulk.format.Container;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Makes a {@link BulkSourceSpec} local and checks it: downloads a URL into the cache (checking the
 * MD5 of the official CIFAR-10 archive), then tells a folder from a tar, tar.gz or zip archive by
 * its content, never by its name.
 */
public final class BulkSourceResolver {

    private static final int TAR_HEADER = 512;

    private BulkSourceResolver() {}

    /**
     * @param cacheDir where downloads are kept (DATA_DIR/cache)
     * @param maxImageBytes larger files are refused unread (MAX_UPLOAD_SIZE)
     * @throws IOException naming the location when it cannot be downloaded, does not exist, or is
     *     neither a folder nor an archive imsrc reads
     */
    public static ResolvedBulkSource resolve(BulkSourceSpec spec, Path cacheDir, long maxImageBytes) throws IOException {
        return resolve(spec, cacheDir, maxImageBytes, Cifar10Binary::knownMd5);
    }

    /**
     * As {@link #resolve(BulkSourceSpec, Path, long)}, with the MD5 each download must have.
     *
     * @param knownMd5 the expected MD5 of a URL's content, or {@code null} when none is known
     */
    static ResolvedBulkSource resolve(
            BulkSourceSpec spec, Path cacheDir, long maxImageBytes, Function<URI, String> knownMd5) throws IOException {
        Path path = Downloads.isUrl(spec.location())
                ? download(spec.location(), cacheDir, knownMd5)
                : Path.of(spec.location());
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toAbsolutePath().toString(), null,
                    "no such folder or archive (give a folder, a .tar, .tar.gz or .zip archive, or an http(s) URL)");
        }
        path = path.toAbsolutePath().normalize();
        if (Files.isDirectory(path)) {
            return new ResolvedBulkSource(spec.location(), path.toString(), Container.DIRECTORY, false, spec.root(),
                    spec.watch(), spec.limit(), maxImageBytes);
        }
        if (spec.watch()) {
            throw new IllegalArgumentException("only a folder can be watched; " + spec.location() + " is a file");
        }
        byte[] head = readHead(path, TAR_HEADER);
        if (isGzip(head)) {
            byte[] inner;
            try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(path)))) {
                inner = in.readNBytes(TAR_HEADER);
            }
            if (!TarArchiveInputStream.matches(inner, inner.length)) {
                throw new IOException(spec.location() + " is gzip-compressed but holds no tar archive");
            }
            return archive(spec, path, Container.TAR, true, maxImageBytes);
        }
        if (isZip(head)) {
            return archive(spec, path, Container.ZIP, false, maxImageBytes);
        }
        if (TarArchiveInputStream.matches(head, head.length)) {
            return archive(spec, path, Container.TAR, false, maxImageBytes);
        }
        throw new IOException(spec.location() + " is neither a folder nor an archive imsrc reads (.tar, .tar.gz, .zip)");
    }

    private static ResolvedBulkSource archive(
            BulkSourceSpec spec, Path path, Container container, boolean gzip, long maxImageBytes) {
        return new ResolvedBulkSource(spec.location(), path.toString(), container, gzip, spec.root(), false, spec.limit(),
                maxImageBytes);
    }

    private static Path download(String location, Path cacheDir, Function<URI, String> knownMd5) throws IOException {
        URI uri = URI.create(location);
        Path cached = Downloads.cachePath(uri, cacheDir);
        try {
            return Downloads.fetch(uri, cached, knownMd5.apply(uri));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + ". Without access to it, copy the file onto this machine and either "
                    + "put it at " + cached.toAbsolutePath() + " (where a download would have gone) or give its path instead "
                    + "of the URL (for CIFAR-10: CIFAR10_SOURCE=/path/to/cifar-10-binary.tar.gz#train, or --source)", e);
        }
    }

    private static byte[] readHead(Path file, int bytes) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(bytes);
        }
    }

    private static boolean isGzip(byte[] head) {
        return head.length >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B;
    }

    private static boolean isZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K'
                && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
    }
}
