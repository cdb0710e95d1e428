package io.imsrc.ingest.operator;

import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;

/**
 * An operator that holds back what it has collected and sends it on in one go ({@link #flush}):
 * when a deadline passes (a processing-time timer that the subclass starts with {@link
 * #startDeadline}, typically for the first record it holds), before a checkpoint barrier ({@link
 * #prepareSnapshotPreBarrier}), before a watermark is forwarded, and at the end of a bounded input.
 * The pattern is that of Flink's {@code AbstractMapBundleOperator}.
 *
 * <p>Flushing before every barrier means nothing is held across a checkpoint, so what is held
 * needs no operator state. A flush cancels the pending deadline; the next held record starts a
 * new one. All methods run in the task thread (Flink calls timers there too).
 */
public abstract class FlushingOperator<IN, OUT> extends AbstractStreamOperator<OUT>
        implements OneInputStreamOperator<IN, OUT>, BoundedOneInput, ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;

    private transient ScheduledFuture<?> deadline;

    /** Sends on everything held; called with nothing held too. */
    protected abstract void flush() throws Exception;

    /**
     * Flushes in {@code delayMs} unless a deadline is already pending or a flush comes first.
     */
    protected final void startDeadline(long delayMs) {
        if (deadline == null) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            deadline = getProcessingTimeService().registerTimer(now + delayMs, this);
        }
    }

    /** Cancels the pending deadline and flushes. */
    protected final void flushNow() throws Exception {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        flush();
    }

    @Override
    public final void onProcessingTime(long time) throws Exception {
        deadline = null;
        flush();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flushNow();
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flushNow();
        super.processWatermark(mark);
    }

    @Override
    public void endInput() throws Exception {
        flushNow();
    }
}
