package io.imsrc.ingest.embed;

import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.io.Closeables;
import io.imsrc.ingest.operator.FlushingOperator;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.EmbeddedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds admitted images in micro-batches: one forward pass per batch of up to BATCH_SIZE images,
 * and one {@link EmbeddedBatch} out per pass, which the image sink writes in one statement.
 *
 * <p>A batch is flushed when it is full; when BATCH_MAX_DELAY_MS has passed since its first image
 * (so a lone upload is not held back); and before a checkpoint barrier, before a watermark and at
 * the end of input ({@link FlushingOperator}), so nothing is buffered across a checkpoint and the
 * operator needs no state.
 *
 * <p>Images without a category get the model's predicted class, recorded as predicted with its
 * confidence.
 *
 * <p>The model loads once per subtask in {@link #open} and is released in {@link #close}. Metrics
 * (operator scope, so the dashboard shows them): {@code imagesEmbedded}, {@code imagesPerSecond},
 * {@code batches}, {@code batchSize} and {@code inferenceMillis} histograms, and the last batch's
 * {@code lastBatchSize} and {@code lastInferenceMillis}.
 */
public final class BatchEmbedOperator extends FlushingOperator<AdmittedImage, EmbeddedBatch> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BatchEmbedOperator.class);
    private static final int HISTOGRAM_WINDOW = 500;

    private final EmbedSettings settings;

    private transient Embedder embedder;
    private transient List<AdmittedImage> buffer;
    private transient Counter imagesEmbedded;
    private transient Counter batches;
    private transient Histogram batchSizes;
    private transient Histogram inferenceMillis;
    private transient volatile long lastBatchSize;
    private transient volatile long lastInferenceMillis;
    private transient long totalInferenceNanos;

    public BatchEmbedOperator(EmbedSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    @Override
    public void open() throws Exception {
        super.open();
        buffer = new ArrayList<>(settings.batch().batchSize());
        int slots = getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration()
                .get(TaskManagerOptions.NUM_TASK_SLOTS);
        embedder = Embedder.load(settings.model(),
                settings.embedderOptions(Runtime.getRuntime().availableProcessors(), slots));
        if (!embedder.modelId().value().equals(settings.modelId())) {
            String found = embedder.modelId().value();
            embedder.close();
            throw new IllegalStateException("the model file on this task manager has id " + found + ", but the job was "
                    + "built for " + settings.modelId() + ": give every machine the same model file");
        }
        var group = getMetricGroup();
        imagesEmbedded = group.counter("imagesEmbedded");
        group.meter("imagesPerSecond", new MeterView(imagesEmbedded, 10));
        batches = group.counter("batches");
        batchSizes = group.histogram("batchSize", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        inferenceMillis = group.histogram("inferenceMillis", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        group.gauge("lastBatchSize", () -> lastBatchSize);
        group.gauge("lastInferenceMillis", () -> lastInferenceMillis);
    }

    @Override
    public void processElement(StreamRecord<AdmittedImage> element) throws Exception {
        buffer.add(element.getValue());
        if (buffer.size() >= settings.batch().batchSize()) {
            flushNow();
        } else if (buffer.size() == 1) {
            startDeadline(settings.batch().maxDelayMs());
        }
    }

    /** One forward pass over the buffered images, and their batch out. */
    @Override
    protected void flush() throws Exception {
        if (buffer.isEmpty()) {
            return;
        }
        List<AdmittedImage> batch = buffer;
        buffer = new ArrayList<>(settings.batch().batchSize());
        List<float[]> inputs = new ArrayList<>(batch.size());
        for (AdmittedImage image : batch) {
            inputs.add(image.modelInput());
        }
        long start = System.nanoTime();
        List<Embedding> embeddings = embedder.embed(inputs);
        long nanos = System.nanoTime() - start;
        long millis = nanos / 1_000_000;
        totalInferenceNanos += nanos;
        List<EmbeddedImage> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            out.add(embedded(batch.get(i), embeddings.get(i)));
        }
        output.collect(new StreamRecord<>(new EmbeddedBatch(out)));
        imagesEmbedded.inc(batch.size());
        batches.inc();
        batchSizes.update(batch.size());
        inferenceMillis.update(millis);
        lastBatchSize = batch.size();
        lastInferenceMillis = millis;
    }

    /** The image with its vector, under its label or, without one, under the predicted class. */
    static EmbeddedImage embedded(AdmittedImage image, Embedding embedding) {
        if (image.category() != null) {
            return new EmbeddedImage(image.meta(), image.stored(), image.category(), false, null, embedding.vector());
        }
        String predicted = embedding.prediction().orElseThrow(() -> new IllegalStateException(
                "an image without a category reached a model without a classifier; admission should have refused it"));
        return new EmbeddedImage(image.meta(), image.stored(), predicted, true, embedding.confidence(), embedding.vector());
    }

    @Override
    public void close() throws Exception {
        if (batches != null && batches.getCount() > 0) {
            LOG.info("Embedding subtask {} embedded {} images in {} batches (mean {}), {} ms in the model",
                    getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), imagesEmbedded.getCount(),
                    batches.getCount(), imagesEmbedded.getCount() / batches.getCount(), totalInferenceNanos / 1_000_000);
        }
        Embedder owned = embedder;
        embedder = null;
        Closeables.closeAllChecked(super::close, owned);
    }
}
