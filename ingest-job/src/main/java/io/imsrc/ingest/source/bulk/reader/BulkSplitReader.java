package io.imsrc.ingest.source.bulk.reader;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.format.Container;
import io.imsrc.ingest.source.bulk.format.EntryCursor;
import io.imsrc.ingest.source.bulk.format.EntryCursors;
import io.imsrc.ingest.source.bulk.format.ImageEntries;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;

/**
 * Reads the entries of its splits, one split after the other, in the source reader's fetcher
 * thread: file I/O, decompression and hashing happen here, beside the task thread that decodes and
 * embeds. Each fetch returns up to {@value #RECORDS_PER_FETCH} images, each with the position after
 * it, so a checkpoint between two records resumes exactly there.
 *
 * <p>A file that cannot be read, is larger than the limit or carries an impossible CIFAR label
 * becomes a rejected {@link RawImage}, which the job turns into a dead letter; a broken archive
 * stream fails the split (and the job's restart strategy retries it).
 *
 * <p>Not thread-safe: used by its fetcher thread only.
 */
public final class BulkSplitReader implements SplitReader<BulkSplitReader.PositionedImage, BulkSplit> {

    public static final int RECORDS_PER_FETCH = 64;

    /** An image and the split position after it. */
    public record PositionedImage(RawImage image, long nextPosition) {}

    private final long maxImageBytes;
    private final Deque<BulkSplit> splits = new ArrayDeque<>();
    private BulkSplit current;
    private EntryCursor cursor;

    public BulkSplitReader(long maxImageBytes) {
        this.maxImageBytes = maxImageBytes;
    }

    @Override
    public RecordsWithSplitIds<PositionedImage> fetch() throws IOException {
        RecordsBySplits.Builder<PositionedImage> records = new RecordsBySplits.Builder<>();
        if (current == null) {
            current = splits.poll();
            if (current == null) {
                return records.build();
            }
            if (current.exhausted()) {
                return finishCurrent(records);
            }
            cursor = openCursor(current);
        }
        long lastSelected = current.selection() == null || current.selection().length == 0
                ? Long.MAX_VALUE : current.selection()[current.selection().length - 1];
        for (int n = 0; n < RECORDS_PER_FETCH; ) {
            EntryCursor.Entry entry = cursor.next();
            if (entry == null || entry.index() > lastSelected) {
                return finishCurrent(records);
            }
            if (!wanted(entry)) {
                continue;
            }
            records.add(current.splitId(), new PositionedImage(read(entry), entry.index() + 1));
            n++;
        }
        return records.build();
    }

    /** A cursor at the split's position. */
    private static EntryCursor openCursor(BulkSplit split) throws IOException {
        Path path = Path.of(split.path());
        if (split.content() == BulkSplit.Content.CIFAR_RECORDS) {
            return EntryCursors.cifarRecords(path, split.container(), split.gzip(), split.member(), split.position());
        }
        return switch (split.container()) {
            case DIRECTORY -> EntryCursors.folderFiles(path, split.files(), split.position());
            case TAR -> EntryCursors.tarEntries(path, split.gzip(), split.position());
            case ZIP -> EntryCursors.zipEntries(path, split.position());
        };
    }

    private RecordsWithSplitIds<PositionedImage> finishCurrent(RecordsBySplits.Builder<PositionedImage> records)
            throws IOException {
        records.addFinishedSplit(current.splitId());
        current = null;
        closeCursor();
        return records.build();
    }

    private boolean wanted(EntryCursor.Entry entry) {
        if (!entry.regularFile() || !current.selected(entry.index())) {
            return false;
        }
        // A selection was made from eligible entries; a folder's file list holds only eligible files.
        return current.content() == BulkSplit.Content.CIFAR_RECORDS || current.selection() != null
                || current.container() == Container.DIRECTORY || ImageEntries.eligible(entry.path(), current.root());
    }

    private RawImage read(EntryCursor.Entry entry) {
        long now = System.currentTimeMillis();
        if (current.content() == BulkSplit.Content.CIFAR_RECORDS) {
            return readCifarRecord(entry, now);
        }
        String key = current.path() + "#" + entry.path();
        String label = ImageEntries.label(entry.path(), current.root());
        if (entry.size() > maxImageBytes) {
            return RawImage.rejected(new ImageMeta(0, null, SourceKind.FOLDER, key, entry.path(), null, now),
                    Rejection.TOO_LARGE, "the file is " + entry.size() + " bytes, more than the limit of " + maxImageBytes);
        }
        byte[] bytes;
        try (InputStream in = entry.content().open()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxImageBytes + 1));
        } catch (IOException e) {
            return RawImage.rejected(new ImageMeta(0, null, SourceKind.FOLDER, key, entry.path(), null, now),
                    Rejection.UNREADABLE, "cannot read the file: " + e);
        }
        if (bytes.length > maxImageBytes) {
            return RawImage.rejected(new ImageMeta(0, null, SourceKind.FOLDER, key, entry.path(), null, now),
                    Rejection.TOO_LARGE, "the file is larger than the limit of " + maxImageBytes + " bytes");
        }
        byte[] sha256 = ImageId.sha256(bytes);
        ImageMeta meta = new ImageMeta(ImageId.fromSha256(sha256), sha256, SourceKind.FOLDER, key, entry.path(), null, now);
        return RawImage.of(meta, label, bytes, RawImage.Encoding.FILE);
    }

    private RawImage readCifarRecord(EntryCursor.Entry entry, long now) {
        String name = current.member() + "#" + entry.index();
        String key = current.path() + "#" + name;
        byte[] record;
        try (InputStream in = entry.content().open()) {
            record = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("an in-memory CIFAR record cannot fail to read", e);
        }
        byte[] pixels = Arrays.copyOfRange(record, 1, record.length);
        byte[] sha256 = ImageId.sha256(pixels);
        ImageMeta meta = new ImageMeta(ImageId.fromSha256(sha256), sha256, SourceKind.CIFAR10, key, name, null, now);
        List<String> labels = current.labels();
        int label = record[0] & 0xFF;
        if (label >= labels.size()) {
            return RawImage.rejected(new ImageMeta(0, null, SourceKind.CIFAR10, key, name, null, now), Rejection.CORRUPT,
                    "label byte " + label + " names no class of batches.meta.txt (it has " + labels.size() + ")");
        }
        return RawImage.of(meta, labels.get(label), pixels, RawImage.Encoding.CIFAR_PIXELS);
    }

    @Override
    public void handleSplitsChanges(SplitsChange<BulkSplit> change) {
        if (change instanceof SplitsAddition) {
            splits.addAll(change.splits());
        }
    }

    @Override
    public void wakeUp() {
        // fetch() never blocks for long: it reads at most RECORDS_PER_FETCH entries and returns.
    }

    @Override
    public void close() throws IOException {
        closeCursor();
    }

    private void closeCursor() throws IOException {
        if (cursor != null) {
            EntryCursor c = cursor;
            cursor = null;
            c.close();
        }
    }
}
