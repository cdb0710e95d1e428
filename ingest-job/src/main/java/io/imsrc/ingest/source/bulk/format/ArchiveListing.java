package io.imsrc.ingest.source.bulk.format;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Every entry of an archive, in archive order, and, when it holds the CIFAR-10 binary layout, its
 * class names. Listing a tar.gz reads it once (a 20 MB archive of 60,000 JPEGs in about half a
 * second); a zip lists from its central directory.
 *
 * @param entries every entry, directories included, numbered as {@link EntryCursors} numbers them
 * @param cifarMeta the content of the first {@value Cifar10Binary#META_FILE}, or {@code null}
 * @param cifarFolder the folder that holds it ("" at the top), or {@code null}
 */
public record ArchiveListing(List<Entry> entries, byte[] cifarMeta, String cifarFolder) {

    /** The longest class list read from a tar's {@value Cifar10Binary#META_FILE}. */
    private static final int MAX_META_BYTES = 64 * 1024;

    public ArchiveListing {
        entries = List.copyOf(entries);
    }

    /** One entry: its index, its path inside the archive, whether it is a file, its size. */
    public record Entry(long index, String path, boolean file, long size) {}

    public static ArchiveListing ofTar(Path archive, boolean gzip) throws IOException {
        List<Entry> entries = new ArrayList<>();
        byte[] meta = null;
        String metaFolder = null;
        try (TarArchiveInputStream tar = EntryCursors.openTar(archive, gzip)) {
            TarArchiveEntry entry;
            long index = 0;
            while ((entry = tar.getNextEntry()) != null) {
                String name = EntryCursors.entryName(entry.getName());
                entries.add(new Entry(index++, name, entry.isFile(), entry.getSize()));
                if (entry.isFile() && fileName(name).equals(Cifar10Binary.META_FILE) && meta == null) {
                    meta = tar.readNBytes(MAX_META_BYTES);
                    metaFolder = folderOf(name);
                }
            }
        }
        return new ArchiveListing(entries, meta, metaFolder);
    }

    /** A zip's entries; imsrc reads the CIFAR-10 binary layout from a tar or a folder only. */
    public static ArchiveListing ofZip(Path archive) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            long index = 0;
            for (var it = zip.entries(); it.hasMoreElements(); ) {
                ZipEntry entry = it.nextElement();
                entries.add(new Entry(index++, EntryCursors.entryName(entry.getName()), !entry.isDirectory(),
                        entry.getSize()));
            }
        }
        return new ArchiveListing(entries, null, null);
    }

    /** Up to ten top-level names, for an error that says what the archive holds instead. */
    public String describeTopLevel() {
        Set<String> tops = new TreeSet<>();
        for (Entry entry : entries) {
            String path = entry.path();
            int slash = path.indexOf('/');
            String top = slash < 0 ? path : path.substring(0, slash + 1);
            if (!top.isEmpty() && tops.size() < 10) {
                tops.add(top);
            }
        }
        return tops.isEmpty() ? " (it is empty)" : " (it holds " + String.join(", ", tops) + ")";
    }

    /** The last component of a '/'-separated path. */
    public static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** Everything before the last '/' of a path, "" for none. */
    public static String folderOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }
}
