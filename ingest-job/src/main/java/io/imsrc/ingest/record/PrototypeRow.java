package io.imsrc.ingest.record;

import java.util.Objects;

/**
 * A category's prototype as _category_prototypes stores it.
 *
 * @param mean the mean of the category's vectors (not re-normalised)
 * @param count how many images the mean covers
 */
public record PrototypeRow(String category, float[] mean, long count) {

    public PrototypeRow {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(mean, "mean");
    }
}
