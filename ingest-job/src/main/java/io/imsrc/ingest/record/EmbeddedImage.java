package io.imsrc.ingest.record;

import java.util.Objects;

/**
 * An embedded image, ready to be written.
 *
 * @param category the category it is stored under
 * @param predicted whether the model chose the category (an image without a label)
 * @param confidence the model's confidence in a predicted category, else {@code null}
 * @param vector the L2-normalised embedding
 */
public record EmbeddedImage(
        ImageMeta meta, StoredImage stored, String category, boolean predicted, Float confidence, float[] vector) {

    public EmbeddedImage {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(stored, "stored");
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(vector, "vector");
        if (predicted != (confidence != null)) {
            throw new IllegalArgumentException("a predicted category has a confidence, a label has none");
        }
    }
}
