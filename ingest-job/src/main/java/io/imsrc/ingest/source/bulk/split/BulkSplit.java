package io.imsrc.ingest.source.bulk.split;

import io.imsrc.ingest.source.bulk.ResolvedBulkSource;
import io.imsrc.ingest.source.bulk.format.Container;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.connector.source.SourceSplit;

/**
 * A unit of bulk reading that one reader works through in order: a list of files of a folder, one
 * image archive, or one CIFAR-10 batch file. Immutable; the reader's progress is {@link #position},
 * the index of the next entry to read, so a restored split resumes there.
 *
 * <p>Entry indices: the position in {@link #files} for a folder, the archive's entry number (every
 * entry, directories included) for a tar or zip, the record number for a CIFAR batch.
 *
 * @param id unique within its source
 * @param content what the entries are
 * @param container what holds them
 * @param gzip whether a tar is gzip-compressed
 * @param path the absolute path of the folder or archive
 * @param root the root inside it; only images under it are read (image archives)
 * @param files a folder's files, relative to {@code path}, in reading order; empty otherwise
 * @param member the CIFAR batch: its path in the archive, or its file name in the folder
 * @param labels the CIFAR class names in label order; empty otherwise
 * @param selection the sorted entry indices to read when a limit picked some, else {@code null}
 *     for every eligible entry
 * @param position the next entry index to read
 */
public record BulkSplit(
        String id,
        Content content,
        Container container,
        boolean gzip,
        String path,
        String root,
        List<String> files,
        String member,
        List<String> labels,
        long[] selection,
        long position) implements SourceSplit, Serializable {

    /** What a split's entries are. */
    public enum Content {
        /** Image files, labelled by the directory above them. */
        IMAGES,
        /** CIFAR-10 binary records of one batch file. */
        CIFAR_RECORDS
    }

    public BulkSplit {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(root, "root");
        files = List.copyOf(files);
        labels = List.copyOf(labels);
        if (content == Content.CIFAR_RECORDS && (member == null || labels.isEmpty())) {
            throw new IllegalArgumentException("a CIFAR split names its batch file and its labels");
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
    }

    public static BulkSplit images(String id, ResolvedBulkSource source, List<String> files, long[] selection) {
        return new BulkSplit(id, Content.IMAGES, source.container(), source.gzip(), source.path(), source.root(),
                files, null, List.of(), selection, 0);
    }

    public static BulkSplit cifar(String id, ResolvedBulkSource source, String member, List<String> labels, long[] selection) {
        return new BulkSplit(id, Content.CIFAR_RECORDS, source.container(), source.gzip(), source.path(), "",
                List.of(), member, labels, selection, 0);
    }

    @Override
    public String splitId() {
        return id;
    }

    public BulkSplit withPosition(long newPosition) {
        return new BulkSplit(id, content, container, gzip, path, root, files, member, labels, selection, newPosition);
    }

    /** Whether entry {@code index} is one a limit selected (always true without a selection). */
    public boolean selected(long index) {
        return selection == null || Arrays.binarySearch(selection, index) >= 0;
    }

    /** Whether every selected entry is behind the position, so nothing is left to read. */
    public boolean exhausted() {
        if (selection != null) {
            return selection.length == 0 || position > selection[selection.length - 1];
        }
        return container == Container.DIRECTORY && content == Content.IMAGES && position >= files.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BulkSplit s && id.equals(s.id) && content == s.content && container == s.container
                && gzip == s.gzip && path.equals(s.path) && root.equals(s.root) && files.equals(s.files)
                && Objects.equals(member, s.member) && labels.equals(s.labels) && Arrays.equals(selection, s.selection)
                && position == s.position;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, position);
    }

    @Override
    public String toString() {
        return "BulkSplit[" + id + " " + content + " " + path + (member == null ? "" : "#" + member)
                + (root.isEmpty() ? "" : " root=" + root) + (files.isEmpty() ? "" : " files=" + files.size())
                + (selection == null ? "" : " selected=" + selection.length) + " position=" + position + "]";
    }
}
