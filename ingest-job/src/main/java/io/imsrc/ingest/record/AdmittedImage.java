package io.imsrc.ingest.record;

import java.util.Objects;

/**
 * An image admitted for embedding: seen for the first time, decoded and valid.
 *
 * @param category the category it goes under (a label, or the category already stored for these
 *     bytes), or {@code null} when the model must predict one
 * @param stored what the images table stores
 * @param modelInput the preprocessed model input ({@code 3 x height x width} floats, CHW)
 */
public record AdmittedImage(ImageMeta meta, String category, StoredImage stored, float[] modelInput) {

    public AdmittedImage {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(stored, "stored");
        Objects.requireNonNull(modelInput, "modelInput");
    }
}
