package io.imsrc.ingest.record;

import java.util.Objects;

/**
 * What some images add to their category's prototype: the sum of their vectors and their number.
 * Deltas commute, so they may arrive in any order and from any subtask.
 *
 * @param sum the component-wise sum, in double precision so that a mean over many images stays
 *     within float rounding of the exact one
 * @param count how many images the sum holds, at least one
 */
public record PrototypeDelta(String category, double[] sum, long count) {

    public PrototypeDelta {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(sum, "sum");
        if (count < 1) {
            throw new IllegalArgumentException("a delta holds at least one image, got " + count);
        }
    }
}
