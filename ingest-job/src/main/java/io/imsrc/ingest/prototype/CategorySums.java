package io.imsrc.ingest.prototype;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Sums vectors per category, in place: what a batch, the admission bootstrap (every stored vector
 * of a subtask's key groups) and the tests' expected prototypes add up before any of it becomes a
 * {@link PrototypeSum}. Adding in place matters for the bootstrap, which may sum millions of
 * vectors.
 *
 * <p>Not thread-safe; one owner. Categories keep the order they first appeared in.
 *
 * @param <K> how a category is named: its name in the job, its id where a test reads the table
 */
public final class CategorySums<K> {

    private final Map<K, Running> sums = new LinkedHashMap<>();

    private static final class Running {
        final double[] sum;
        long count;

        Running(int dimension) {
            sum = new double[dimension];
        }
    }

    /**
     * Adds {@code vector} to {@code category}'s sum.
     *
     * @throws IllegalArgumentException when the category already holds vectors of another length
     */
    public void add(K category, float[] vector) {
        Running running = sums.computeIfAbsent(category, c -> new Running(vector.length));
        if (vector.length != running.sum.length) {
            throw new IllegalArgumentException("category " + category + " mixes vectors of " + running.sum.length
                    + " and " + vector.length + " dimensions");
        }
        for (int i = 0; i < vector.length; i++) {
            running.sum[i] += vector[i];
        }
        running.count++;
    }

    /** How many categories have a sum. */
    public int size() {
        return sums.size();
    }

    /** Whether no vector was added. */
    public boolean isEmpty() {
        return sums.isEmpty();
    }

    /** Hands each category's sum to {@code action}, in the order the categories first appeared. */
    public void forEach(BiConsumer<K, PrototypeSum> action) {
        sums.forEach((category, running) -> action.accept(category, new PrototypeSum(running.sum.clone(), running.count)));
    }

    /** Each category's sum, in the order the categories first appeared. */
    public Map<K, PrototypeSum> toMap() {
        Map<K, PrototypeSum> map = new LinkedHashMap<>();
        forEach(map::put);
        return map;
    }
}
