package io.imsrc.common.embed;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How an {@link Embedder} runs its model. Immutable; build with {@link #builder()} or start from
 * {@link #defaults()}. Entry points fill it from DEVICE, BATCH_SIZE and DATA_DIR; nothing below
 * them reads the environment.
 *
 * @param device where the model runs
 * @param batchSize the most images in one forward pass; larger requests are split
 * @param intraOpThreads threads PyTorch uses inside one operator (a convolution), set in every
 *     thread that embeds; 0 keeps PyTorch's default (one per core)
 * @param interOpThreads PyTorch's inter-op pool size; process-wide and settable only once, before
 *     the first forward pass of the process; 0 keeps PyTorch's default
 * @param padBatches whether a short batch is padded with blank images to one of a few fixed sizes
 *     (powers of two up to {@code batchSize}, and {@code batchSize}), so the TorchScript executor
 *     sees few distinct shapes; the padding's outputs are dropped. Off by default: with mixed batch
 *     sizes padding cost more (0.43x) than the executor's re-specialisation saved
 * @param graphOptimizer whether TorchScript's graph executor optimises (profiles and specialises)
 *     the graph; a thread-local PyTorch setting, applied in every thread that embeds, unless the
 *     system property {@code ai.djl.pytorch.graph_optimizer} is set, which DJL applies on every
 *     call and so wins
 * @param modelCacheDir where models given by URL are downloaded to
 * @param tuneNativeAllocator whether loading the embedder fixes glibc's malloc thresholds for the
 *     whole process so freed tensor memory is reused instead of page-faulted in again on every
 *     call (on by default; 3-4.5x faster from batch 32 up on the development machine; see {@code
 *     NativeAllocator})
 */
public record EmbedderOptions(
        Device device,
        int batchSize,
        int intraOpThreads,
        int interOpThreads,
        boolean padBatches,
        boolean graphOptimizer,
        Path modelCacheDir,
        boolean tuneNativeAllocator) {

    /**
     * The batch size that was fastest end to end in the ingest job on the development machine (2
     * cores, no GPU), and for the bare embedder run the way the job runs it (one caller per core,
     * one PyTorch thread each): docs/benchmarks.md, "Ingest throughput", where 16 and 64 come
     * within a few percent and 128 and 256 lose 15-25%. (The earlier sweep with a single caller and
     * PyTorch's two threads had 256 ahead of 32 by 10%, within its noise.) A cap, not a target:
     * micro-batches that a deadline closes earlier run at their own size.
     */
    public static final int DEFAULT_BATCH_SIZE = 32;

    public static final int MAX_BATCH_SIZE = 4096;

    public EmbedderOptions {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(modelCacheDir, "modelCacheDir");
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batch size must be between 1 and " + MAX_BATCH_SIZE + ", got " + batchSize);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intra-op threads must be >= 0 (0 = PyTorch's default), got " + intraOpThreads);
        }
        if (interOpThreads < 0) {
            throw new IllegalArgumentException("inter-op threads must be >= 0 (0 = PyTorch's default), got " + interOpThreads);
        }
    }

    public static EmbedderOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder()
                .device(device)
                .batchSize(batchSize)
                .intraOpThreads(intraOpThreads)
                .interOpThreads(interOpThreads)
                .padBatches(padBatches)
                .graphOptimizer(graphOptimizer)
                .modelCacheDir(modelCacheDir)
                .tuneNativeAllocator(tuneNativeAllocator);
    }

    /** Builds {@link EmbedderOptions}; arguments are checked in {@link #build()}. */
    public static final class Builder {

        private Device device = Device.AUTO;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private int intraOpThreads;
        private int interOpThreads;
        private boolean padBatches;
        private boolean graphOptimizer = true;
        private Path modelCacheDir = Path.of("data", "models");
        private boolean tuneNativeAllocator = true;

        private Builder() {}

        public Builder device(Device value) {
            this.device = value;
            return this;
        }

        public Builder batchSize(int value) {
            this.batchSize = value;
            return this;
        }

        public Builder intraOpThreads(int value) {
            this.intraOpThreads = value;
            return this;
        }

        public Builder interOpThreads(int value) {
            this.interOpThreads = value;
            return this;
        }

        public Builder padBatches(boolean value) {
            this.padBatches = value;
            return this;
        }

        public Builder graphOptimizer(boolean value) {
            this.graphOptimizer = value;
            return this;
        }

        public Builder modelCacheDir(Path value) {
            this.modelCacheDir = value;
            return this;
        }

        public Builder tuneNativeAllocator(boolean value) {
            this.tuneNativeAllocator = value;
            return this;
        }

        public EmbedderOptions build() {
            return new EmbedderOptions(device, batchSize, intraOpThreads, interOpThreads, padBatches, graphOptimizer,
                    modelCacheDir, tuneNativeAllocator);
        }
    }
}
