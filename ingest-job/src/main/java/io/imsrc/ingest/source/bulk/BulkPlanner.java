package io.imsrc.ingest.source.bulk;

import io.imsrc.ingest.source.bulk.format.ArchiveListing;
import io.imsrc.ingest.source.bulk.format.Cifar10Binary;
import io.imsrc.ingest.source.bulk.format.CifarBatches;
import io.imsrc.ingest.source.bulk.format.ImageEntries;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
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
import java.util.stream.Stream;

/**
 * Lists a bulk source once and cuts it into {@link BulkSplit}s: a folder into runs of {@value
 * #FILES_PER_SPLIT} files (so several readers share it), an image archive into one split (a
 * compressed stream is read in order), the CIFAR-10 binary archive into one split per batch file.
 * A limit picks entries spread evenly over the whole source.
 *
 * <p>The planner runs where the job is built (an archive is listed once, {@link ArchiveListing}),
 * so a wrong path or root fails before anything is submitted, and the total is known for progress
 * reporting.
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
        Path path = Path.of(source.path());
        return switch (source.container()) {
            case DIRECTORY -> {
                CifarBatches cifar = CifarBatches.inFolder(path);
                yield cifar != null
                        ? planCifar(source, cifar)
                        : planFolder(source, listFolder(source, Set.of(), Long.MAX_VALUE), "files-");
            }
            case TAR -> planArchive(source, ArchiveListing.ofTar(path, source.gzip()));
            case ZIP -> planArchive(source, ArchiveListing.ofZip(path));
        };
    }

    /**
     * The files of a watched folder that appeared since the last scan, as new splits: those not in
     * {@code seen} whose last modification is before {@code settledBefore} (so a file still being
     * copied in is taken on a later scan).
     */
    public static List<BulkSplit> scanFolder(ResolvedBulkSource source, Set<String> seen, long settledBefore, String idPrefix)
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

    private static Plan planArchive(ResolvedBulkSource source, ArchiveListing listing) {
        CifarBatches cifar = CifarBatches.inArchive(listing);
        if (cifar != null) {
            return planCifar(source, cifar);
        }
        List<Long> eligible = new ArrayList<>();
        for (ArchiveListing.Entry entry : listing.entries()) {
            if (entry.file() && ImageEntries.eligible(entry.path(), source.root())) {
                eligible.add(entry.index());
            }
        }
        if (eligible.isEmpty()) {
            throw new IllegalArgumentException("no files under " + describeRoot(source) + " of the archive "
                    + source.name() + listing.describeTopLevel());
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

    private static Plan planCifar(ResolvedBulkSource source, CifarBatches listing) {
        List<String> labels = listing.labels();
        List<String> members = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, Long> batch : listing.sizes().entrySet()) {
            if (!Cifar10Binary.inSplit(ArchiveListing.fileName(batch.getKey()), source.root())) {
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
            splits.add(BulkSplit.cifar("cifar-" + ArchiveListing.fileName(members.get(m)), source, members.get(m), labels, selection));
            offset += records;
        }
        return new Plan(splits, picked == null ? total : picked.length);
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

    private static String describeRoot(ResolvedBulkSource source) {
        return source.root().isEmpty() ? "the top" : "the root '" + source.root() + "'";
    }
}
