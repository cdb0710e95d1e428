package io.imsrc.ingest.source.bulk;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Opens the {@link EntryCursor} of a split, positioned at the split's position. For a tar (and
 * every CIFAR batch inside one) reaching the position means reading past the entries before it,
 * since a compressed stream cannot seek; for a folder or a zip it is a jump.
 */
final class EntryCursors {

    private static final int BUFFER = 1 << 16;

    private EntryCursors() {}

    static EntryCursor open(BulkSplit split) throws IOException {
        Path path = Path.of(split.path());
        if (split.content() == BulkSplit.Content.CIFAR_RECORDS) {
            return new CifarRecords(openCifarBatch(split, path), split.member(), split.position());
        }
        return switch (split.container()) {
            case DIRECTORY -> new FolderFiles(path, split.files(), split.position());
            case TAR -> new TarEntries(openTar(path, split.gzip()), split.position());
            case ZIP -> new ZipEntries(new ZipFile(path.toFile()), split.position());
        };
    }

    static TarArchiveInputStream openTar(Path archive, boolean gzip) throws IOException {
        InputStream file = new BufferedInputStream(Files.newInputStream(archive), BUFFER);
        try {
            InputStream in = gzip ? new BufferedInputStream(new GZIPInputStream(file, BUFFER), BUFFER) : file;
            return new TarArchiveInputStream(in);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Strips the "./" some tar tools put before every name. */
    static String entryName(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n;
    }

    /** The stream of one CIFAR batch file, at its first record. */
    private static InputStream openCifarBatch(BulkSplit split, Path path) throws IOException {
        if (split.container() == Container.DIRECTORY) {
            return new BufferedInputStream(Files.newInputStream(path.resolve(split.member())), BUFFER);
        }
        TarArchiveInputStream tar = openTar(path, split.gzip());
        try {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.isFile() && entryName(entry.getName()).equals(split.member())) {
                    return tar;
                }
            }
        } catch (IOException | RuntimeException e) {
            tar.close();
            throw e;
        }
        tar.close();
        throw new NoSuchFileException(split.path() + "#" + split.member(), null, "the CIFAR batch is not in the archive");
    }

    /** A stream that ignores close, for an entry's content that belongs to its archive's stream. */
    private static InputStream unclosable(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public void close() {}
        };
    }

    private static final class FolderFiles implements EntryCursor {
        private final Path folder;
        private final List<String> files;
        private int next;

        FolderFiles(Path folder, List<String> files, long position) {
            this.folder = folder;
            this.files = files;
            this.next = (int) Math.min(position, files.size());
        }

        @Override
        public Entry next() {
            if (next >= files.size()) {
                return null;
            }
            int index = next++;
            Path file = folder.resolve(files.get(index));
            long size;
            try {
                size = Files.size(file);
            } catch (IOException e) {
                size = -1; // the read fails the same way and names the cause
            }
            return new Entry(index, files.get(index), true, size, () -> Files.newInputStream(file));
        }

        @Override
        public void close() {}
    }

    private static final class TarEntries implements EntryCursor {
        private final TarArchiveInputStream tar;
        private final long start;
        private long index = -1;

        TarEntries(TarArchiveInputStream tar, long start) {
            this.tar = tar;
            this.start = start;
        }

        @Override
        public Entry next() throws IOException {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                index++;
                if (index >= start) {
                    return new Entry(index, entryName(entry.getName()), entry.isFile(), entry.getSize(),
                            () -> unclosable(tar));
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            tar.close();
        }
    }

    private static final class ZipEntries implements EntryCursor {
        private final ZipFile zip;
        private final Enumeration<? extends ZipEntry> entries;
        private final long start;
        private long index = -1;

        ZipEntries(ZipFile zip, long start) {
            this.zip = zip;
            this.entries = zip.entries();
            this.start = start;
        }

        @Override
        public Entry next() {
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                index++;
                if (index >= start) {
                    return new Entry(index, entryName(entry.getName()), !entry.isDirectory(), entry.getSize(),
                            () -> zip.getInputStream(entry));
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }

    /** The fixed-size records of a CIFAR batch; skipping to the position reads past the ones before. */
    private static final class CifarRecords implements EntryCursor {
        private final InputStream in;
        private final String member;
        private long index;
        private boolean skipped;

        CifarRecords(InputStream in, String member, long position) {
            this.in = in;
            this.member = member;
            this.index = position;
        }

        @Override
        public Entry next() throws IOException {
            if (!skipped) {
                in.skipNBytes(index * Cifar10Binary.RECORD_BYTES);
                skipped = true;
            }
            byte[] record = in.readNBytes(Cifar10Binary.RECORD_BYTES);
            if (record.length == 0) {
                return null;
            }
            if (record.length != Cifar10Binary.RECORD_BYTES) {
                throw new IOException("the CIFAR batch " + member + " ends inside record " + index + " ("
                        + record.length + " of " + Cifar10Binary.RECORD_BYTES + " bytes)");
            }
            return new Entry(index++, member, true, record.length, () -> new ByteArrayInputStream(record));
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
