package io.imsrc.ingest.source.bulk.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The batch files of a CIFAR-10 binary archive or folder, found by their layout ({@link
 * Cifar10Binary}), never by the name of the archive.
 *
 * @param sizes each batch file's path (in the archive, or relative to the folder given) and its
 *     size in bytes, training batches first, then the test batch
 * @param meta the content of {@value Cifar10Binary#META_FILE}
 */
public record CifarBatches(SortedMap<String, Long> sizes, byte[] meta) {

    public CifarBatches {
        sizes = Collections.unmodifiableSortedMap(new TreeMap<>(sizes));
    }

    /**
     * The batches of an archive whose listing holds {@value Cifar10Binary#META_FILE} and batch
     * files beside it, or {@code null} when it is an archive of images.
     */
    public static CifarBatches inArchive(ArchiveListing listing) {
        if (listing.cifarMeta() == null) {
            return null;
        }
        SortedMap<String, Long> batches = byArchiveOrder();
        for (ArchiveListing.Entry entry : listing.entries()) {
            if (entry.file() && ArchiveListing.folderOf(entry.path()).equals(listing.cifarFolder())
                    && Cifar10Binary.isBatchFile(ArchiveListing.fileName(entry.path()))) {
                batches.put(entry.path(), entry.size());
            }
        }
        return batches.isEmpty() ? null : new CifarBatches(batches, listing.cifarMeta());
    }

    /**
     * The batches of a folder that is the unpacked archive (the folder itself, or its {@value
     * Cifar10Binary#FOLDER}), or {@code null} when it is a folder of images.
     */
    public static CifarBatches inFolder(Path folder) throws IOException {
        Path batchFolder = batchFolder(folder);
        if (batchFolder == null) {
            return null;
        }
        SortedMap<String, Long> batches = byArchiveOrder();
        try (Stream<Path> files = Files.list(batchFolder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Cifar10Binary.isBatchFile(file.getFileName().toString())) {
                    batches.put(folder.relativize(file).toString().replace('\\', '/'), Files.size(file));
                }
            }
        }
        return new CifarBatches(batches, Files.readAllBytes(batchFolder.resolve(Cifar10Binary.META_FILE)));
    }

    /** The class names, in label order. */
    public List<String> labels() {
        return Cifar10Binary.parseLabels(meta);
    }

    /** The folder itself, or its cifar-10-batches-bin, when it holds batches.meta.txt and batches. */
    private static Path batchFolder(Path folder) {
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

    private static SortedMap<String, Long> byArchiveOrder() {
        return new TreeMap<>(Comparator.comparing((String path) -> Cifar10Binary.sortKey(ArchiveListing.fileName(path)))
                .thenComparing(Comparator.naturalOrder()));
    }
}
