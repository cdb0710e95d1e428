package io.imsrc.ingest.prototype;

import io.imsrc.ingest.record.PrototypeDelta;
import io.imsrc.ingest.record.PrototypeRow;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Keeps one prototype per category (the stream is keyed by category name): the sum and count of
 * its vectors in keyed state ({@link PrototypeSum}), and the mean sent out as a {@link
 * PrototypeRow} for the prototype sink to upsert.
 *
 * <p>A prototype changes with every image, but writing it that often would rewrite the same few
 * rows thousands of times a second; so changed categories are collected and their means sent at
 * most every {@code flushIntervalMs}, and always before a checkpoint barrier and at the end of
 * input. The set of changed categories is empty at every barrier, so it needs no state; the rows
 * are absolute values, so a replay after a restore converges on the same rows.
 *
 * <p>State is built only from the deltas that arrive: those of newly embedded images and, in a job
 * that starts without restored state, the sums of the stored images that the admission operator
 * read at its bootstrap.
 */
public final class PrototypeOperator extends AbstractStreamOperator<PrototypeRow>
        implements OneInputStreamOperator<PrototypeDelta, PrototypeRow>, BoundedOneInput, ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;

    private final long flushIntervalMs;

    private transient ValueState<PrototypeSum> sums;
    private transient Set<String> changed;
    private transient ScheduledFuture<?> flushTimer;

    public PrototypeOperator(long flushIntervalMs) {
        if (flushIntervalMs < 0) {
            throw new IllegalArgumentException("the flush interval must not be negative, got " + flushIntervalMs);
        }
        this.flushIntervalMs = flushIntervalMs;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        sums = getPartitionedState(new ValueStateDescriptor<>("prototype-sum", TypeInformation.of(PrototypeSum.class)));
        changed = new LinkedHashSet<>();
    }

    @Override
    public void processElement(StreamRecord<PrototypeDelta> element) throws Exception {
        PrototypeDelta delta = element.getValue();
        PrototypeSum current = sums.value();
        sums.update((current == null ? PrototypeSum.EMPTY : current).plus(delta));
        changed.add(delta.category());
        if (flushTimer == null) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            flushTimer = getProcessingTimeService().registerTimer(now + flushIntervalMs, this);
        }
    }

    @Override
    public void onProcessingTime(long time) throws Exception {
        flushTimer = null;
        flushChanged();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flushChanged();
    }

    @Override
    public void endInput() throws Exception {
        flushChanged();
    }

    /** Sends the mean of every category that changed since the last flush. */
    void flushChanged() throws Exception {
        if (flushTimer != null) {
            flushTimer.cancel(false);
            flushTimer = null;
        }
        for (String category : changed) {
            setCurrentKey(category);
            PrototypeSum sum = sums.value();
            output.collect(new StreamRecord<>(new PrototypeRow(category, sum.mean(), sum.count())));
        }
        changed.clear();
    }
}
