package io.imsrc.ingest.prototype;

import io.imsrc.ingest.record.PrototypeDelta;
import java.util.Objects;

/**
 * A category's running sum of vectors and their count, the one place the prototype arithmetic
 * lives: the prototype operator's keyed state, the admission bootstrap's and each batch's sums
 * ({@link CategorySums}), and the tests' expected means. Immutable (the array is never changed
 * after construction); pure arithmetic.
 *
 * @param sum the component-wise sum, in double precision so that a mean over many images stays
 *     within float rounding of the exact one
 */
public record PrototypeSum(double[] sum, long count) {

    /** The sum of no vectors, of any dimension. */
    public static final PrototypeSum EMPTY = new PrototypeSum(new double[0], 0);

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

    /** What this sum adds to {@code category}'s prototype. */
    public PrototypeDelta toDelta(String category) {
        return new PrototypeDelta(category, sum, count);
    }
}
