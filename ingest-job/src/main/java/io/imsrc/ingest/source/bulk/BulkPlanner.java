package io.imsrc.ingest.source.bulk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Lists a bulk source once and cuts it into {@link BulkSplit}s: a folder into runs of {@value
 * #FILES_PER_SPLIT} files (so several readers share it), an image archive into one split (a
 * compressed stream is read in order), the CIFAR-10 binary archive into one split per batch file.
 * A limit picks entries spread evenly over the whole source.
 *
 * <p>Listing a tar.gz reads it once (a 20 MB archive of 60,000 JPEGs in about half a second); the
 * planner runs where the job is built, so a wrong path or root fails before anything is submitted,
 * and the total is known for progress reporting.
 */
public final class BulkPlanner {

    /** Files of a folder per split. */
    static final int FILES_PER_SPLIT = 256;

    private BulkPlanner() {}

    /**
     * The splits of a source and how many images they hold.
     *
     * @param imageCount the images (or CIFAR records) the splits will read
     */
    public record Plan(List<BulkSplit> splits, long imageCount) {
        public Plan {
            splits = List.copyOf(splits);
        }
    }

    /**
     * Plans a bounded read of the whole source (or, for a watched folder, of what is there now).
     *
     * @throws IllegalArgumentException when the root selects nothing or the CIFAR layout is broken
     * @throws IOException when the source cannot be listed
     */
    public static Plan plan(ResolvedBulkSource source) throws IOException {
        return switch (source.container()) {
            case DIRECTORY -> isCifarFolder(Path.of(source.path()))
                    ? planCifar(source, cifarFolderListing(Path.of(source.path())))
                    : planFolder(source, listFolder(source, Set.of(), Long.MAX_VALUE), "files-");
            case TAR -> planArchive(source, listTar(source));
            case ZIP -> planArchive(source, listZip(source));
        };
    }

    /**
     * The files of a watched folder that appeared since the last scan, as new splits: those not in
     * {@code seen} whose last modification is before {@code settledBefore} (so a file still being
     * copied in is taken on a later scan).
     */
    static List<BulkSplit> scanFolder(ResolvedBulkSource source, Set<String> seen, long settledBefore, String idPrefix)
            throws IOException {
        List<String> files = listFolder(source, seen, settledBefore);
        return files.isEmpty() ? List.of() : planFolder(source, files, idPrefix).splits();
    }

    private static Plan planFolder(ResolvedBulkSource source, List<String> files, String idPrefix) {
        if (files.isEmpty() && !source.watch()) {
            throw new IllegalArgumentException("no files under " + describeRoot(source) + " of " + source.name());
        }
        long[] picked = spread(files.size(), source.limit());
        List<String> chosen = files;
        if (picked != null) {
            chosen = new ArrayList<>(picked.length);
            for (long i : picked) {
                chosen.add(files.get((int) i));
            }
        }
        List<BulkSplit> splits = new ArrayList<>();
        for (int from = 0, n = 0; from < chosen.size(); from += FILES_PER_SPLIT, n++) {
            List<String> run = chosen.subList(from, Math.min(chosen.size(), from + FILES_PER_SPLIT));
            splits.add(BulkSplit.images(idPrefix + n, source, run, null));
        }
        return new Plan(splits, chosen.size());
    }

    /** The eligible files under the root, relative to the folder, sorted, minus {@code seen}. */
    private static List<String> listFolder(ResolvedBulkSource source, Set<String> seen, long settledBefore)
            throws IOException {
        Path folder = Path.of(source.path());
        Path start = source.root().isEmpty() ? folder : folder.resolve(source.root());
        if (!Files.isDirectory(start)) {
            throw new NoSuchFileException(start.toString(), null, "the root " + describeRoot(source) + " is not a folder");
        }
        List<String> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(start)) {
            for (Path file : (Iterable<Path>) walk::iterator) {
                String relative = folder.relativize(file).toString().replace('\\', '/');
                if (seen.contains(relative) || !ImageEntries.eligible(relative, source.root())) {
                    continue;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(file, BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    continue; // removed while listing
                }
                if (attributes.isRegularFile() && attributes.lastModifiedTime().toMillis() < settledBefore) {
                    files.add(relative);
                }
            }
        }
        files.sort(Comparator.naturalOrder());
        return files;
    }

    /** One entry of an archive's listing. */
    private record ArchiveEntry(long index, String path, boolean file, long size) {}

    /** An archive's entries and, when it is the CIFAR-10 binary archive, its class names. */
    private record Listing(List<ArchiveEntry> entries, byte[] cifarMeta, String cifarFolder) {}

    private static Listing listTar(ResolvedBulkSource source) throws IOException {
        List<ArchiveEntry> entries = new ArrayList<>();
        byte[] meta = null;
        String metaFolder = null;
        try (TarArchiveInputStream tar = EntryCursors.openTar(Path.of(source.path()), source.gzip())) {
            TarArchiveEntry entry;
            long index = 0;
            while ((entry = tar.getNextEntry()) != null) {
                String name = EntryCursors.entryName(entry.getName());
                entries.add(new ArchiveEntry(index++, name, entry.isFile(), entry.getSize()));
                if (entry.isFile() && fileName(name).equals(Cifar10Binary.META_FILE) && meta == null) {
                    meta = tar.readNBytes(64 * 1024);
                    metaFolder = folderOf(name);
                }
            }
        }
        return new Listing(entries, meta, metaFolder);
    }

    private static Listing listZip(ResolvedBulkSource source) throws IOException {
        List<ArchiveEntry> entries = new ArrayList<>();
        try (ZipFile zip = new ZipFile(source.path())) {
            long index = 0;
            for (var it = zip.entries(); it.hasMoreElements(); ) {
                ZipEntry entry = it.nextElement();
                entries.add(new ArchiveEntry(index++, EntryCursors.entryName(entry.getName()), !entry.isDirectory(),
                        entry.getSize()));
            }
        }
        return new Listing(entries, null, null);
    }

    private static Plan planArchive(ResolvedBulkSource source, Listing listing) throws IOException {
        if (listing.cifarMeta() != null) {
            Map<String, Long> batches = new TreeMap<>(Comparator.comparing(Cifar10Binary::sortKey));
            for (ArchiveEntry entry : listing.entries()) {
                if (entry.file() && folderOf(entry.path()).equals(listing.cifarFolder())
                        && Cifar10Binary.isBatchFile(fileName(entry.path()))) {
                    batches.put(entry.path(), entry.size());
                }
            }
            if (!batches.isEmpty()) {
                return planCifar(source, new CifarListing(batches, listing.cifarMeta()));
            }
        }
        List<Long> eligible = new ArrayList<>();
        for (ArchiveEntry entry : listing.entries()) {
            if (entry.file() && ImageEntries.eligible(entry.path(), source.root())) {
                eligible.add(entry.index());
            }
        }
        if (eligible.isEmpty()) {
            throw new IllegalArgumentException("no files under " + describeRoot(source) + " of the archive "
                    + source.name() + topLevel(listing));
        }
        long[] picked = spread(eligible.size(), source.limit());
        long[] selection = null;
        if (picked != null) {
            selection = new long[picked.length];
            for (int i = 0; i < picked.length; i++) {
                selection[i] = eligible.get((int) picked[i]);
            }
        }
        long count = selection == null ? eligible.size() : selection.length;
        return new Plan(List.of(BulkSplit.images("archive", source, List.of(), selection)), count);
    }

    /** The CIFAR batch files (path in the container to size) and batches.meta.txt. */
    private record CifarListing(Map<String, Long> batches, byte[] meta) {}

    private static Plan planCifar(ResolvedBulkSource source, CifarListing listing) {
        List<String> labels = Cifar10Binary.parseLabels(listing.meta());
        List<String> members = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, Long> batch : listing.batches().entrySet()) {
            if (!Cifar10Binary.inSplit(fileName(batch.getKey()), source.root())) {
                continue;
            }
            long size = batch.getValue();
            if (size % Cifar10Binary.RECORD_BYTES != 0) {
                throw new IllegalArgumentException("the CIFAR batch " + batch.getKey() + " of " + source.name()
                        + " is " + size + " bytes, not a whole number of " + Cifar10Binary.RECORD_BYTES + "-byte records");
            }
            members.add(batch.getKey());
            counts.add(size / Cifar10Binary.RECORD_BYTES);
            total += size / Cifar10Binary.RECORD_BYTES;
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("the CIFAR-10 archive " + source.name() + " has no batch files for the root '"
                    + source.root() + "'");
        }
        long[] picked = spread(total, source.limit());
        List<BulkSplit> splits = new ArrayList<>();
        long offset = 0;
        int p = 0;
        for (int m = 0; m < members.size(); m++) {
            long records = counts.get(m);
            long[] selection = null;
            if (picked != null) {
                List<Long> mine = new ArrayList<>();
                while (p < picked.length && picked[p] < offset + records) {
                    mine.add(picked[p++] - offset);
                }
                if (mine.isEmpty()) {
                    offset += records;
                    continue;
                }
                selection = mine.stream().mapToLong(Long::longValue).toArray();
            }
            splits.add(BulkSplit.cifar("cifar-" + fileName(members.get(m)), source, members.get(m), labels, selection));
            offset += records;
        }
        return new Plan(splits, picked == null ? total : picked.length);
    }

    private static boolean isCifarFolder(Path folder) {
        return cifarBatchFolder(folder) != null;
    }

    /** The folder itself, or its cifar-10-batches-bin, when it holds batches.meta.txt and batches. */
    private static Path cifarBatchFolder(Path folder) {
        for (Path candidate : List.of(folder, folder.resolve(Cifar10Binary.FOLDER))) {
            if (Files.isRegularFile(candidate.resolve(Cifar10Binary.META_FILE))) {
                try (Stream<Path> files = Files.list(candidate)) {
                    if (files.anyMatch(f -> Cifar10Binary.isBatchFile(f.getFileName().toString()))) {
                        return candidate;
                    }
                } catch (IOException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static CifarListing cifarFolderListing(Path folder) throws IOException {
        Path batchFolder = cifarBatchFolder(folder);
        Map<String, Long> batches = new TreeMap<>(Comparator.comparing(Cifar10Binary::sortKey));
        try (Stream<Path> files = Files.list(batchFolder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Cifar10Binary.isBatchFile(file.getFileName().toString())) {
                    batches.put(folder.relativize(file).toString().replace('\\', '/'), Files.size(file));
                }
            }
        }
        return new CifarListing(batches, Files.readAllBytes(batchFolder.resolve(Cifar10Binary.META_FILE)));
    }

    /**
     * {@code limit} indices spread evenly over {@code 0..total-1} (index {@code i * total / limit}),
     * or {@code null} when there is no limit or it covers everything.
     */
    static long[] spread(long total, long limit) {
        if (limit <= 0 || limit >= total) {
            return null;
        }
        long[] picked = new long[(int) limit];
        for (int i = 0; i < limit; i++) {
            picked[i] = Math.multiplyExact((long) i, total) / limit;
        }
        return picked;
    }

    private static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String folderOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    private static String describeRoot(ResolvedBulkSource source) {
        return source.root().isEmpty() ? "the top" : "the root '" + source.root() + "'";
    }

    private static String topLevel(Listing listing) {
        Set<String> tops = new TreeSet<>();
        for (ArchiveEntry entry : listing.entries()) {
            String path = entry.path();
            int slash = path.indexOf('/');
            String top = slash < 0 ? path : path.substring(0, slash + 1);
            if (!top.isEmpty() && tops.size() < 10) {
                tops.add(top);
            }
        }
        return tops.isEmpty() ? " (it is empty)" : " (it holds " + String.join(", ", tops) + ")";
    }
}
