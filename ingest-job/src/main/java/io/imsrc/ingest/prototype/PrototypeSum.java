package io.imsrc.ingest.prototype;

import io.imsrc.ingest.record.PrototypeDelta;
import java.util.Objects;

/**
 * A category's running sum of vectors and their count: the prototype operator's keyed state.
 * Immutable; pure arithmetic.
 */
public record PrototypeSum(double[] sum, long count) {

    public PrototypeSum {
        Objects.requireNonNull(sum, "sum");
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative, got " + count);
        }
    }

    /** This sum with a delta added. */
    public PrototypeSum plus(PrototypeDelta delta) {
        if (count > 0 && delta.sum().length != sum.length) {
            throw new IllegalArgumentException("category " + delta.category() + " mixes vectors of " + sum.length + " and "
                    + delta.sum().length + " dimensions");
        }
        double[] next = count == 0 ? new double[delta.sum().length] : sum.clone();
        for (int i = 0; i < next.length; i++) {
            next[i] += delta.sum()[i];
        }
        return new PrototypeSum(next, count + delta.count());
    }

    /** The mean vector: the prototype. */
    public float[] mean() {
        if (count == 0) {
            throw new IllegalStateException("an empty sum has no mean");
        }
        float[] mean = new float[sum.length];
        for (int i = 0; i < sum.length; i++) {
            mean[i] = (float) (sum[i] / count);
        }
        return mean;
    }
}
