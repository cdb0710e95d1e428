package io.imsrc.ingest.source.bulk.reader;

import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import java.util.Map;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;

/**
 * The reader of a bulk source: asks the enumerator for a split, reads it through a {@link
 * BulkSplitReader} in its fetcher thread, and asks for the next when it is done, so the splits
 * spread over the readers by their speed. Each emitted image moves its split's position past it.
 */
// "try": SourceReaderBase.close() may throw InterruptedException; Flink owns and closes the reader.
@SuppressWarnings("try")
public final class BulkSourceReader extends SingleThreadMultiplexSourceReaderBase<
        BulkSplitReader.PositionedImage, RawImage, BulkSplit, BulkSourceReader.SplitState> {

    /** A split being read: its mutable position. */
    static final class SplitState {
        private final BulkSplit split;
        private long position;

        SplitState(BulkSplit split) {
            this.split = split;
            this.position = split.position();
        }

        BulkSplit toSplit() {
            return split.withPosition(position);
        }
    }

    public BulkSourceReader(long maxImageBytes, SourceReaderContext context) {
        super(() -> new BulkSplitReader(maxImageBytes),
                (element, output, state) -> {
                    output.collect(element.image());
                    state.position = element.nextPosition();
                },
                new Configuration(),
                context);
    }

    @Override
    public void start() {
        if (getNumberOfCurrentlyAssignedSplits() == 0) {
            context.sendSplitRequest();
        }
    }

    @Override
    protected void onSplitFinished(Map<String, SplitState> finishedSplitIds) {
        context.sendSplitRequest();
    }

    @Override
    protected SplitState initializedState(BulkSplit split) {
        return new SplitState(split);
    }

    @Override
    protected BulkSplit toSplitType(String splitId, SplitState state) {
        return state.toSplit();
    }
}
