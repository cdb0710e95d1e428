package io.imsrc.common.embed;

import java.util.Objects;
import java.util.Optional;

/**
 * The embedding of one image and, when the model has a classifier head, its most likely label.
 *
 * <p>The vector is shared, not copied: treat it as read-only.
 *
 * @param vector the L2-normalised embedding (unit length, so the inner product of two is their
 *     cosine similarity)
 * @param predictedLabel the arg-max label of the logits, or {@code null} when the model has none
 * @param confidence the softmax probability of {@code predictedLabel}, or {@code NaN} without one
 */
public record Embedding(float[] vector, String predictedLabel, float confidence) {

    public Embedding {
        Objects.requireNonNull(vector, "vector");
    }

    public static Embedding withoutPrediction(float[] vector) {
        return new Embedding(vector, null, Float.NaN);
    }

    public Optional<String> prediction() {
        return Optional.ofNullable(predictedLabel);
    }

    public int dimension() {
        return vector.length;
    }
}
