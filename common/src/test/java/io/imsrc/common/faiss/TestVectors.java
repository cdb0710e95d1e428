package io.imsrc.common.faiss;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/** Seeded random data for the FAISS tests and benchmark. */
final class TestVectors {
    private TestVectors() {}

    /**
     * {@code n} unit vectors of dimension {@code d}, uniform on the sphere (normalised
     * Gaussians), row-major. Random vectors have no cluster structure, which makes them the
     * hard case for IVF and HNSW: real embeddings need smaller search settings.
     */
    static float[] randomUnitVectors(int n, int d, long seed) {
        Random random = new Random(seed);
        float[] vectors = new float[n * d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                float x = (float) random.nextGaussian();
                vectors[i * d + j] = x;
                norm += x * x;
            }
            float scale = (float) (1 / Math.sqrt(norm));
            for (int j = 0; j < d; j++) {
                vectors[i * d + j] *= scale;
            }
        }
        return vectors;
    }

    /** {@code n} distinct positive ids, spread like image ids (not 0..n-1, so a mix-up of ids and positions shows). */
    static long[] distinctIds(int n, long seed) {
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

    static float[] row(float[] vectors, int d, int i) {
        return Arrays.copyOfRange(vectors, i * d, (i + 1) * d);
    }
}
