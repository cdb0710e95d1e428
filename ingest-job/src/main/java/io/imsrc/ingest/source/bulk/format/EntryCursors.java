package io.imsrc.ingest.source.bulk.format;

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
 * Opens {@link EntryCursor}s over folders, archives and CIFAR batches, positioned at an entry
 * index. For a tar (and every CIFAR batch inside one) reaching the position means reading past the
 * entries before it, since a compressed stream cannot seek; for a folder or a zip it is a jump.
 */
public final class EntryCursors {

    private static final int BUFFER = 1 << 16;

    private EntryCursors() {}

    /** The files of a folder from {@code position} on: a jump, nothing is read to get there. */
    public static EntryCursor folderFiles(Path folder, List<String> files, long position) {
        return new FolderFiles(folder, files, position);
    }

    /** Every entry of a tar from entry {@code position} on, reading past the ones before. */
    public static EntryCursor tarEntries(Path archive, boolean gzip, long position) throws IOException {
        return new TarEntries(openTar(archive, gzip), position);
    }

    /** Every entry of a zip from entry {@code position} on. */
    public static EntryCursor zipEntries(Path archive, long position) throws IOException {
        return new ZipEntries(new ZipFile(archive.toFile()), position);
    }

    /**
     * The records of one CIFAR batch from record {@code position} on.
     *
     * @param location the folder or tar archive that holds the batch
     * @param member the batch: its path in the archive, or its path relative to the folder
     */
    public static EntryCursor cifarRecords(Path location, Container container, boolean gzip, String member, long position)
            throws IOException {
        return new CifarRecords(openCifarBatch(location, container, gzip, member), member, position);
    }

    public static TarArchiveInputStream openTar(Path archive, boolean gzip) throws IOException {
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
    public static String entryName(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n;
    }

    /** The stream of one CIFAR batch file, at its first record. */
    private static InputStream openCifarBatch(Path location, Container container, boolean gzip, String member)
            throws IOException {
        if (container == Container.DIRECTORY) {
            return new BufferedInputStream(Files.newInputStream(location.resolve(member)), BUFFER);
        }
        TarArchiveInputStream tar = openTar(location, gzip);
        try {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.isFile() && entryName(entry.getName()).equals(member)) {
                    return tar;
                }
            }
        } catch (IOException | RuntimeException e) {
            tar.close();
            throw e;
        }
        tar.close();
        throw new NoSuchFileException(location + "#" + member, null, "the CIFAR batch is not in the archive");
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

    /**
     * An archive's entries from entry {@code start} on: the entries before it are read past, since
     * an archive is walked in order.
     */
    private abstract static class ArchiveEntries implements EntryCursor {
        private final long start;
        private long index = -1;

        ArchiveEntries(long start) {
            this.start = start;
        }

        /** The archive's next entry, numbered {@code index}, or {@code null} after the last. */
        abstract Entry read(long index) throws IOException;

        @Override
        public final Entry next() throws IOException {
            Entry entry;
            while ((entry = read(++index)) != null) {
                if (index >= start) {
                    return entry;
                }
            }
            return null;
        }
    }

    private static final class TarEntries extends ArchiveEntries {
        private final TarArchiveInputStream tar;

        TarEntries(TarArchiveInputStream tar, long start) {
            super(start);
            this.tar = tar;
        }

        @Override
        Entry read(long index) throws IOException {
            TarArchiveEntry entry = tar.getNextEntry();
            return entry == null ? null : new Entry(index, entryName(entry.getName()), entry.isFile(), entry.getSize(),
                    () -> unclosable(tar));
        }

        @Override
        public void close() throws IOException {
            tar.close();
        }
    }

    private static final class ZipEntries extends ArchiveEntries {
        private final ZipFile zip;
        private final Enumeration<? extends ZipEntry> entries;

        ZipEntries(ZipFile zip, long start) {
            super(start);
            this.zip = zip;
            this.entries = zip.entries();
        }

        @Override
        Entry read(long index) {
            if (!entries.hasMoreElements()) {
                return null;
            }
            ZipEntry entry = entries.nextElement();
            return new Entry(index, entryName(entry.getName()), !entry.isDirectory(), entry.getSize(),
                    () -> zip.getInputStream(entry));
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
