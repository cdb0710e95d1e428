package io.imsrc.query.store;

import java.util.Objects;

/**
 * A category's prototype as the ingest job stores it: the mean of its vectors (not re-normalised),
 * how many images it covers and when it last changed.
 */
public record PrototypeRecord(String category, float[] mean, long imageCount, long updatedAtMillis) {

    public PrototypeRecord {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(mean, "mean");
    }
}
