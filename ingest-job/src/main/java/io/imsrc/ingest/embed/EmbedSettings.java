package io.imsrc.ingest.embed;

import io.imsrc.common.config.ImsrcConfig.BatchConfig;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.ModelDescription;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How the job embeds: the model, where it runs and how records are batched. Serializable, so the
 * embedding operator takes it to the task managers, where it loads the model once per subtask.
 *
 * @param model the model description, its {@code model} a path or URL as the task managers see it
 * @param modelId the id the client computed from the model file; the operator refuses a file whose
 *     id differs, so vectors of two models never mix under one id
 * @param batch BATCH_SIZE, the most images in one forward pass, and BATCH_MAX_DELAY_MS, how long
 *     the first image of a partial batch waits for more
 * @param intraOpThreads PyTorch threads per subtask, or {@link #AUTO_THREADS} for the task
 *     manager's cores shared out over its slots (so the subtasks of one machine do not
 *     oversubscribe it, and one subtask alone uses every core)
 * @param modelCacheDir where a model given by URL is downloaded to
 */
public record EmbedSettings(
        ModelDescription model, String modelId, Device device, BatchConfig batch, int intraOpThreads,
        String modelCacheDir) implements Serializable {

    /** intraOpThreads: the task manager's cores divided by its slots. */
    public static final int AUTO_THREADS = 0;

    public EmbedSettings {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(modelCacheDir, "modelCacheDir");
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("the thread count must not be negative, got " + intraOpThreads);
        }
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(batch, "batch");
    }

    /**
     * The embedder's options for these settings on a task manager with {@code cores} cores and
     * {@code slots} task slots.
     */
    public EmbedderOptions embedderOptions(int cores, int slots) {
        return EmbedderOptions.builder()
                .device(device)
                .batchSize(batch.batchSize())
                .intraOpThreads(intraOpThreads == AUTO_THREADS ? Math.max(1, cores / Math.max(1, slots)) : intraOpThreads)
                .modelCacheDir(Path.of(modelCacheDir))
                .build();
    }
}
