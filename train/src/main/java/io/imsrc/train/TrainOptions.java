package io.imsrc.train;

import io.imsrc.common.embed.ModelArchitecture;
import java.util.List;
import java.util.Objects;

/**
 * Everything that decides what {@code imsrc train} learns: the data, the network, the loss and the
 * schedule. Immutable; {@link #defaults()} are the settings the shipped model was trained with
 * (README, "The default model"). A checkpoint stores these, so {@code --resume} continues with
 * exactly the settings the run started with.
 *
 * @param name the model's name: its folder under DATA_DIR/models and the start of its model id
 * @param architecture the network
 * @param margin CosFace's additive margin: the true class's cosine is lowered by this much before
 *     the softmax, which pulls each class tighter than a plain cosine softmax does; 0 for none
 * @param epochs passes over the training images
 * @param batchSize images per optimiser step
 * @param learningRate the peak learning rate, reached after the warm-up
 * @param warmupEpochs epochs of linear warm-up from 0 to the peak (at most every step but the
 *     last); then a cosine decay to 0
 * @param momentum SGD's (Nesterov) momentum
 * @param weightDecay L2 penalty on convolution weights (not on batch norm or the class weights)
 * @param seed seeds the initial weights, the order of the images, the augmentation and the
 *     held-out split; the same seed and data give the same model
 * @param sources labelled sources, LOCATION[#ROOT] as {@code imsrc ingest --source} takes them
 * @param holdoutSources labelled sources whose images are the held-out split (CIFAR-10's test
 *     split, for example); when empty, {@code holdoutFraction} of the images is held out instead
 * @param holdoutFraction the share of the images held out, chosen by a seeded hash of the image id
 *     (used only without holdout sources)
 * @param library whether the labelled images stored in PostgreSQL are training images too
 * @param limit at most this many images from each source (spread over it), 0 for all
 * @param threads PyTorch's threads per operator; 0 for one per core
 */
public record TrainOptions(
        String name,
        ModelArchitecture architecture,
        float margin,
        int epochs,
        int batchSize,
        float learningRate,
        float warmupEpochs,
        float momentum,
        float weightDecay,
        long seed,
        List<String> sources,
        List<String> holdoutSources,
        double holdoutFraction,
        boolean library,
        long limit,
        int threads) {

    /** DATA_DIR/models/djl holds the zoo's downloads, not a trained model. */
    private static final String ZOO_CACHE = "djl";

    public TrainOptions {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9._-]+") || name.startsWith(".")) {
            throw new IllegalArgumentException(
                    "model name '" + name + "' may hold only letters, digits, '.', '_' and '-' (not first)");
        }
        check(!name.equals(ZOO_CACHE), "'" + ZOO_CACHE + "' is the folder of DJL's model zoo downloads: give another name");
        Objects.requireNonNull(architecture, "architecture");
        check(margin >= 0 && margin < 1, "margin must be in [0, 1), got " + margin);
        check(epochs >= 1 && epochs <= 10_000, "epochs must be in [1, 10000], got " + epochs);
        check(batchSize >= 2 && batchSize <= 4096, "batch size must be in [2, 4096], got " + batchSize);
        check(learningRate > 0 && learningRate <= 10, "learning rate must be in (0, 10], got " + learningRate);
        check(warmupEpochs >= 0 && warmupEpochs <= epochs,
                "warm-up epochs must be in [0, epochs], got " + warmupEpochs);
        check(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got " + momentum);
        check(weightDecay >= 0 && weightDecay < 1, "weight decay must be in [0, 1), got " + weightDecay);
        sources = List.copyOf(sources);
        holdoutSources = List.copyOf(holdoutSources);
        check(holdoutFraction >= 0 && holdoutFraction < 1, "held-out fraction must be in [0, 1), got " + holdoutFraction);
        check(!holdoutSources.isEmpty() || holdoutFraction > 0,
                "no held-out images: give a held-out source or a held-out fraction above 0");
        check(library || !sources.isEmpty(), "no training images: give a source, or train on the library");
        check(limit >= 0, "limit must be >= 0, got " + limit);
        check(threads >= 0 && threads <= 1024, "threads must be in [0, 1024], got " + threads);
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The defaults: the settings of the shipped model, on the library, with 10% held out. */
    public static TrainOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.architecture = architecture;
        b.margin = margin;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.learningRate = learningRate;
        b.warmupEpochs = warmupEpochs;
        b.momentum = momentum;
        b.weightDecay = weightDecay;
        b.seed = seed;
        b.sources = sources;
        b.holdoutSources = holdoutSources;
        b.holdoutFraction = holdoutFraction;
        b.library = library;
        b.limit = limit;
        b.threads = threads;
        return b;
    }

    /** Builds {@link TrainOptions}; arguments are checked in {@link #build()}. */
    public static final class Builder {
        private String name = "imsrc-model";
        private ModelArchitecture architecture = ModelArchitecture.cifarResnet(20, 16, 16f);
        private float margin = 0.2f;
        private int epochs = 30;
        private int batchSize = 128;
        private float learningRate = 0.1f;
        private float warmupEpochs = 1;
        private float momentum = 0.9f;
        private float weightDecay = 5e-4f;
        private long seed = 42;
        private List<String> sources = List.of();
        private List<String> holdoutSources = List.of();
        private double holdoutFraction = 0.1;
        private boolean library = true;
        private long limit;
        private int threads;

        private Builder() {}

        public Builder name(String value) {
            name = value;
            return this;
        }

        public Builder architecture(ModelArchitecture value) {
            architecture = value;
            return this;
        }

        public Builder margin(float value) {
            margin = value;
            return this;
        }

        public Builder epochs(int value) {
            epochs = value;
            return this;
        }

        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder learningRate(float value) {
            learningRate = value;
            return this;
        }

        public Builder warmupEpochs(float value) {
            warmupEpochs = value;
            return this;
        }

        public Builder momentum(float value) {
            momentum = value;
            return this;
        }

        public Builder weightDecay(float value) {
            weightDecay = value;
            return this;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public Builder sources(List<String> value) {
            sources = value;
            return this;
        }

        public Builder holdoutSources(List<String> value) {
            holdoutSources = value;
            return this;
        }

        public Builder holdoutFraction(double value) {
            holdoutFraction = value;
            return this;
        }

        public Builder library(boolean value) {
            library = value;
            return this;
        }

        public Builder limit(long value) {
            limit = value;
            return this;
        }

        public Builder threads(int value) {
            threads = value;
            return this;
        }

        public TrainOptions build() {
            return new TrainOptions(name, architecture, margin, epochs, batchSize, learningRate, warmupEpochs, momentum,
                    weightDecay, seed, sources, holdoutSources, holdoutFraction, library, limit, threads);
        }
    }
}
