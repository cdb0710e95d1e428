package io.imsrc.query.testing;

import io.imsrc.common.embed.EmbeddingMath;
import io.imsrc.query.store.VectorRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded unit vectors clustered by category, as embeddings are: each category has a random centre
 * and its vectors scatter around it, so prototype ranking has something to find.
 */
public final class TestVectors {

    private TestVectors() {}

    /** {@code perCategory} rows for each of {@code categories} categories named c0, c1, ... */
    public static Map<String, List<VectorRow>> clustered(int categories, int perCategory, int dimension, long seed) {
        Random random = new Random(seed);
        Map<String, List<VectorRow>> rows = new LinkedHashMap<>();
        long id = 1_000;
        long seq = 1;
        for (int c = 0; c < categories; c++) {
            float[] centre = randomUnit(random, dimension);
            List<VectorRow> list = new ArrayList<>();
            for (int i = 0; i < perCategory; i++) {
                float[] v = new float[dimension];
                for (int d = 0; d < dimension; d++) {
                    v[d] = centre[d] + 0.6f * (float) random.nextGaussian() / (float) Math.sqrt(dimension);
                }
                id += 1 + random.nextInt(1000);
                list.add(new VectorRow(id, "c" + c, EmbeddingMath.l2Normalize(v), seq++, 0));
            }
            rows.put("c" + c, list);
        }
        return rows;
    }

    public static float[] randomUnit(Random random, int dimension) {
        float[] v = new float[dimension];
        for (int d = 0; d < dimension; d++) {
            v[d] = (float) random.nextGaussian();
        }
        return EmbeddingMath.l2Normalize(v);
    }

    /** The mean of each category's vectors, as the ingest job stores it. */
    public static Map<String, float[]> means(Map<String, List<VectorRow>> rows) {
        Map<String, float[]> means = new LinkedHashMap<>();
        rows.forEach((category, list) -> {
            int dimension = list.get(0).vector().length;
            double[] sum = new double[dimension];
            for (VectorRow row : list) {
                for (int d = 0; d < dimension; d++) {
                    sum[d] += row.vector()[d];
                }
            }
            float[] mean = new float[dimension];
            for (int d = 0; d < dimension; d++) {
                mean[d] = (float) (sum[d] / list.size());
            }
            means.put(category, mean);
        });
        return means;
    }
}
