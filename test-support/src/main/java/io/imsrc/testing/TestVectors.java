package io.imsrc.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Seeded vectors for the search tests and benchmarks: uniform unit vectors (the hard case for an
 * approximate index), unit vectors clustered by category (as embeddings are), ids spread like image
 * ids, and the plain mean a prototype must equal.
 */
public final class TestVectors {

    private TestVectors() {}

    /** A vector of a clustered set: its id, its category and the unit vector. */
    public record Labelled(long id, String category, float[] vector) {}

    /**
     * {@code n} unit vectors of dimension {@code d}, uniform on the sphere (normalised
     * Gaussians), row-major. Random vectors have no cluster structure, which makes them the
     * hard case for IVF and HNSW: real embeddings need smaller search settings.
     */
    public static float[] randomUnitVectors(int n, int d, long seed) {
        Random random = new Random(seed);
        float[] vectors = new float[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(randomUnit(random, d), 0, vectors, i * d, d);
        }
        return vectors;
    }

    /** One unit vector of dimension {@code d}, uniform on the sphere. */
    public static float[] randomUnit(Random random, int dimension) {
        float[] v = new float[dimension];
        for (int d = 0; d < dimension; d++) {
            v[d] = (float) random.nextGaussian();
        }
        return unit(v);
    }

    /**
     * {@code perCategory} vectors for each of {@code categories} categories named c0, c1, ...: each
     * category has a random centre and its vectors scatter around it, so prototype ranking has
     * something to find. Ids grow by random steps, in category order.
     */
    public static Map<String, List<Labelled>> clustered(int categories, int perCategory, int dimension, long seed) {
        Random random = new Random(seed);
        Map<String, List<Labelled>> clusters = new LinkedHashMap<>();
        long id = 1_000;
        for (int c = 0; c < categories; c++) {
            float[] centre = randomUnit(random, dimension);
            List<Labelled> list = new ArrayList<>();
            for (int i = 0; i < perCategory; i++) {
                float[] v = new float[dimension];
                for (int d = 0; d < dimension; d++) {
                    v[d] = centre[d] + 0.6f * (float) random.nextGaussian() / (float) Math.sqrt(dimension);
                }
                id += 1 + random.nextInt(1000);
                list.add(new Labelled(id, "c" + c, unit(v)));
            }
            clusters.put("c" + c, list);
        }
        return clusters;
    }

    /** {@code n} distinct positive ids, spread like image ids (not 0..n-1, so a mix-up of ids and positions shows). */
    public static long[] distinctIds(int n, long seed) {
        Random random = new Random(seed);
        long[] ids = new long[n];
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            long id;
            do {
                id = random.nextLong() & Long.MAX_VALUE;
            } while (id == 0 || !seen.add(id));
            ids[i] = id;
        }
        return ids;
    }

    /** Row {@code i} of row-major {@code vectors} of dimension {@code d}. */
    public static float[] row(float[] vectors, int d, int i) {
        return Arrays.copyOfRange(vectors, i * d, (i + 1) * d);
    }

    /** The element-wise mean, summed in double: what a category's prototype must equal. */
    public static float[] mean(List<float[]> vectors) {
        int dimension = vectors.get(0).length;
        double[] sum = new double[dimension];
        for (float[] v : vectors) {
            for (int d = 0; d < dimension; d++) {
                sum[d] += v[d];
            }
        }
        float[] mean = new float[dimension];
        for (int d = 0; d < dimension; d++) {
            mean[d] = (float) (sum[d] / vectors.size());
        }
        return mean;
    }

    /** The dot product, summed in double. */
    public static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    /** {@code v} scaled to length 1 (the norm in double, as EmbeddingMath.l2Normalize does it). */
    public static float[] unit(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += (double) x * x;
        }
        float scale = (float) (1.0 / Math.sqrt(sum));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * scale;
        }
        return out;
    }
}
