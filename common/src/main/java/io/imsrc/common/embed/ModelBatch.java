package io.imsrc.common.embed;

import java.util.List;

/**
 * One forward pass's input: {@code count} images packed as {@code paddedCount x 3 x H x W} floats,
 * the images beyond {@code count} left blank (zero) as padding.
 */
record ModelBatch(float[] data, int count, int paddedCount) {

    ModelBatch {
        if (count < 1 || paddedCount < count) {
            throw new IllegalArgumentException("a batch holds 1..paddedCount images, got " + count + " of " + paddedCount);
        }
    }

    /**
     * Packs preprocessed CHW images one after another.
     *
     * @throws IllegalArgumentException when an image does not have {@code inputLength} floats
     */
    static ModelBatch pack(List<float[]> images, int inputLength, int paddedCount) {
        float[] data = new float[paddedCount * inputLength];
        for (int i = 0; i < images.size(); i++) {
            float[] image = images.get(i);
            if (image.length != inputLength) {
                throw new IllegalArgumentException(
                        "image " + i + " has " + image.length + " floats, the model takes " + inputLength
                                + " (3 x height x width, CHW)");
            }
            System.arraycopy(image, 0, data, i * inputLength, inputLength);
        }
        return new ModelBatch(data, images.size(), paddedCount);
    }

    /**
     * How many images go into each forward pass when {@code count} images are spread over {@code
     * workers} predictors: at most {@code batchSize}, and few enough that every worker gets one.
     */
    static int chunkSize(int count, int batchSize, int workers) {
        if (count < 1 || batchSize < 1 || workers < 1) {
            throw new IllegalArgumentException("count, batch size and workers must be positive");
        }
        return Math.min(batchSize, (count + workers - 1) / workers);
    }

    /**
     * The batch size a batch of {@code count} images is run at: {@code count} itself without
     * padding, otherwise the smallest power of two that holds it, capped at {@code batchSize}. So
     * the model sees at most log2(batchSize) + 2 shapes and a lone image costs a batch of one.
     */
    static int paddedSize(int count, int batchSize, boolean pad) {
        if (count < 1 || count > batchSize) {
            throw new IllegalArgumentException("count must be in 1.." + batchSize + ", got " + count);
        }
        if (!pad) {
            return count;
        }
        int power = Integer.highestOneBit(count);
        if (power < count) {
            power <<= 1;
        }
        return Math.min(power, batchSize);
    }
}
