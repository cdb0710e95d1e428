package io.imsrc.ingest.prototype;

import io.imsrc.ingest.operator.FlushingOperator;
import io.imsrc.ingest.record.PrototypeDelta;
import io.imsrc.ingest.record.PrototypeRow;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Keeps one prototype per category (the stream is keyed by category name): the sum and count of
 * its vectors in keyed state ({@link PrototypeSum}), and the mean sent out as a {@link
 * PrototypeRow} for the prototype sink to upsert.
 *
 * <p>A prototype changes with every image, but writing it that often would rewrite the same few
 * rows thousands of times a second; so changed categories are collected and their means sent at
 * most every {@code flushIntervalMs}, and always before a checkpoint barrier, a watermark and at
 * the end of input ({@link FlushingOperator}). The set of changed categories is empty at every
 * barrier, so it needs no state; the rows are absolute values, so a replay after a restore
 * converges on the same rows.
 *
 * <p>State is built only from the deltas that arrive: those of newly embedded images and, in a job
 * that starts without restored state, the sums of the stored images that the admission operator
 * read at its bootstrap.
 */
public final class PrototypeOperator extends FlushingOperator<PrototypeDelta, PrototypeRow> {

    private static final long serialVersionUID = 1L;

    private final long flushIntervalMs;

    private transient ValueState<PrototypeSum> sums;
    private transient Set<String> changed;

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
        startDeadline(flushIntervalMs);
    }

    /** Sends the mean of every category that changed since the last flush. */
    @Override
    protected void flush() throws Exception {
        for (String category : changed) {
            setCurrentKey(category);
            PrototypeSum sum = sums.value();
            output.collect(new StreamRecord<>(new PrototypeRow(category, sum.mean(), sum.count())));
        }
        changed.clear();
    }
}
