package io.imsrc.common.embed;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * One forward pass's input: {@code images} (preprocessed CHW floats, {@code inputLength} each)
 * run as a batch of {@code paddedCount}, the places beyond the images left blank (zero) as
 * padding. The images are not copied until {@link #writeTo} packs them into the tensor's memory.
 */
record ModelBatch(List<float[]> images, int inputLength, int paddedCount) {

    /**
     * @throws IllegalArgumentException when an image does not have {@code inputLength} floats or
     *     there are more images than {@code paddedCount}
     */
    ModelBatch {
        images = List.copyOf(images);
        if (images.isEmpty() || paddedCount < images.size()) {
            throw new IllegalArgumentException(
                    "a batch holds 1.." + paddedCount + " images, got " + images.size());
        }
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i).length != inputLength) {
                throw new IllegalArgumentException("image " + i + " has " + images.get(i).length
                        + " floats, the model takes " + inputLength + " (3 x height x width, CHW)");
            }
        }
    }

    int count() {
        return images.size();
    }

    /** Floats the whole padded batch takes. */
    int length() {
        return paddedCount * inputLength;
    }

    /** Writes the images one after another from the target's start, then zeros for the padding. */
    void writeTo(FloatBuffer target) {
        target.clear();
        for (float[] image : images) {
            target.put(image);
        }
        for (int i = count() * inputLength, end = length(); i < end; i++) {
            target.put(0f);
        }
        target.flip();
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
