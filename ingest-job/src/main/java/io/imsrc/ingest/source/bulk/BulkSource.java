package io.imsrc.ingest.source.bulk;

import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.enumerator.BulkEnumeratorState;
import io.imsrc.ingest.source.bulk.enumerator.BulkSplitEnumerator;
import io.imsrc.ingest.source.bulk.reader.BulkSourceReader;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import io.imsrc.ingest.source.bulk.split.BulkSplitSerializer;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A FLIP-27 source of the images of a folder, an image archive or the CIFAR-10 binary archive:
 * bounded with the splits {@link BulkPlanner} planned when the job was built, or continuous for a
 * watched folder, whose enumerator scans for new files.
 *
 * <p>Every split remembers how far it was read, and the enumerator which splits and (watched)
 * files it has handed out, so a restore from a checkpoint resumes without losing or repeating an
 * image.
 */
public final class BulkSource
        implements Source<RawImage, BulkSplit, BulkEnumeratorState>, ResultTypeQueryable<RawImage> {

    private static final long serialVersionUID = 1L;

    private final ResolvedBulkSource source;
    private final List<BulkSplit> planned;
    private final long watchIntervalMs;
    private final long settleMs;

    /**
     * @param planned the splits of a bounded source ({@link BulkPlanner#plan}); empty for a watched
     *     folder, which its enumerator scans from the start
     * @param watchIntervalMs how often a watched folder is scanned
     * @param settleMs how long a file must have been left unchanged before it is read, so one still
     *     being copied into a watched folder is not read half-written
     */
    public BulkSource(ResolvedBulkSource source, List<BulkSplit> planned, long watchIntervalMs, long settleMs) {
        this.source = Objects.requireNonNull(source, "source");
        this.planned = List.copyOf(planned);
        if (watchIntervalMs < 1 || settleMs < 0) {
            throw new IllegalArgumentException("the watch interval must be positive and the settle time not negative");
        }
        this.watchIntervalMs = watchIntervalMs;
        this.settleMs = settleMs;
    }

    @Override
    public Boundedness getBoundedness() {
        return source.watch() ? Boundedness.CONTINUOUS_UNBOUNDED : Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<RawImage, BulkSplit> createReader(SourceReaderContext readerContext) {
        return new BulkSourceReader(source.maxImageBytes(), readerContext);
    }

    @Override
    public SplitEnumerator<BulkSplit, BulkEnumeratorState> createEnumerator(SplitEnumeratorContext<BulkSplit> context) {
        Set<String> seen = new HashSet<>();
        planned.forEach(split -> seen.addAll(split.files()));
        return restoreEnumerator(context, new BulkEnumeratorState(planned, seen, 0));
    }

    @Override
    public SplitEnumerator<BulkSplit, BulkEnumeratorState> restoreEnumerator(
            SplitEnumeratorContext<BulkSplit> context, BulkEnumeratorState state) {
        return new BulkSplitEnumerator(context, source, watchIntervalMs, settleMs, state);
    }

    @Override
    public SimpleVersionedSerializer<BulkSplit> getSplitSerializer() {
        return BulkSplitSerializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<BulkEnumeratorState> getEnumeratorCheckpointSerializer() {
        return new BulkEnumeratorState.Serializer();
    }

    @Override
    public TypeInformation<RawImage> getProducedType() {
        return TypeInformation.of(RawImage.class);
    }
}
