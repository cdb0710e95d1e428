package io.imsrc.ingest.source.bulk;

import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.reader.BulkSplitReader;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;

/**
 * Reads every image of a bulk source once, in order, outside Flink: the same planner and split
 * reader as the job's {@link BulkSource}, so a source means the same images, labels and ids
 * wherever it is read. For {@code imsrc train}, which needs a labelled source's images in memory.
 */
public final class BulkImages {

    private BulkImages() {}

    /**
     * Hands every image of {@code source} to {@code consumer} in reading order, including those the
     * reader refused (their {@link RawImage#rejection()} is set).
     *
     * @return how many images the plan held
     * @throws IOException when the source cannot be listed or an archive stream breaks
     * @throws IllegalArgumentException when the root selects nothing or the CIFAR layout is broken
     */
    public static long forEach(ResolvedBulkSource source, Consumer<RawImage> consumer) throws IOException {
        BulkPlanner.Plan plan = BulkPlanner.plan(source);
        readSplits(plan.splits(), source.maxImageBytes(), consumer);
        return plan.imageCount();
    }

    /** Reads {@code splits} to their end, in order, as the job's source reader would. */
    static void readSplits(List<BulkSplit> splits, long maxImageBytes, Consumer<RawImage> consumer)
            throws IOException {
        int finished = 0;
        try (BulkSplitReader reader = new BulkSplitReader(maxImageBytes)) {
            reader.handleSplitsChanges(new SplitsAddition<>(splits));
            while (finished < splits.size()) {
                RecordsWithSplitIds<BulkSplitReader.PositionedImage> records = reader.fetch();
                while (records.nextSplit() != null) {
                    BulkSplitReader.PositionedImage record;
                    while ((record = records.nextRecordFromSplit()) != null) {
                        consumer.accept(record.image());
                    }
                }
                finished += records.finishedSplits().size();
                records.recycle();
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot read the splits: " + e.getMessage(), e);
        }
    }
}
