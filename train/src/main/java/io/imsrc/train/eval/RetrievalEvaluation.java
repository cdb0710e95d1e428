package io.imsrc.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Precision@k of queries against an index of labelled embeddings, ranked by cosine exactly as the
 * query server ranks: globally over every indexed image, and in two stages, first the categories by
 * the cosine of the query with their prototype (the mean of their indexed embeddings), then the
 * images of the best {@code topCategories} only. Precision@k is the share of the k results whose
 * category is the query's, averaged over the queries.
 *
 * <p>The similarities are computed with PyTorch's matrix product, in chunks of queries, so the
 * 10,000 x 50,000 products of CIFAR-10 take seconds; ties at the k-th place are broken by PyTorch's
 * top-k, where the server breaks them by image id (they do not occur with real embeddings).
 */
public final class RetrievalEvaluation {

    /** Queries per chunk: a chunk's similarities are chunk x index floats. */
    private static final int CHUNK = 256;
    /** Lower than any cosine: what the categories outside a query's best few score. */
    private static final float EXCLUDED = 10f;

    /**
     * The figures of one evaluation.
     *
     * @param queries how many queries
     * @param k results per query
     * @param topCategories categories searched in the two-stage mode
     * @param precisionGlobal mean precision@k of the search over every image
     * @param precisionPrototypes mean precision@k of the two-stage search
     * @param prototypeTop1 the share of queries whose category ranks first by prototype
     */
    public record Result(int queries, int k, int topCategories, double precisionGlobal, double precisionPrototypes,
            double prototypeTop1) {}

    private RetrievalEvaluation() {}

    /**
     * @param index unit embeddings of the indexed images, one row each
     * @param indexLabels their category, 0..classes-1
     * @param queries unit embeddings of the queries
     * @param queryLabels their category
     * @param classes the number of categories
     */
    public static Result evaluate(float[][] index, int[] indexLabels, float[][] queries, int[] queryLabels, int classes,
            int k, int topCategories) {
        if (index.length == 0 || queries.length == 0) {
            throw new IllegalArgumentException("an evaluation needs indexed images and queries");
        }
        int dimension = index[0].length;
        int found = Math.min(k, index.length); // fewer results than k when the index is small
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray indexMatrix = manager.create(flatten(index), new Shape(index.length, dimension));
            float[] prototypes = prototypes(index, indexLabels, classes);
            NDArray prototypeMatrix = manager.create(prototypes, new Shape(classes, dimension));
            // One-hot of the indexed images' categories, classes x index: turns a per-category
            // penalty into a per-image one with one product.
            float[] membership = new float[classes * index.length];
            for (int i = 0; i < index.length; i++) {
                membership[indexLabels[i] * index.length + i] = 1f;
            }
            NDArray members = manager.create(membership, new Shape(classes, index.length));
            long globalHits = 0;
            long prototypeHits = 0;
            long top1 = 0;
            for (int from = 0; from < queries.length; from += CHUNK) {
                int n = Math.min(CHUNK, queries.length - from);
                try (NDManager chunk = manager.newSubManager()) {
                    float[][] part = Arrays.copyOfRange(queries, from, from + n);
                    NDArray q = chunk.create(flatten(part), new Shape(n, dimension));
                    NDArray similarities = q.matMul(indexMatrix.transpose());
                    long[] global = similarities.topK(found, 1, true, true).get(1).toLongArray();
                    float[] categoryScores = q.matMul(prototypeMatrix.transpose()).toFloatArray();
                    float[] penalty = new float[n * classes];
                    for (int i = 0; i < n; i++) {
                        int[] ranked = rank(categoryScores, i * classes, classes);
                        if (ranked[0] == queryLabels[from + i]) {
                            top1++;
                        }
                        Arrays.fill(penalty, i * classes, (i + 1) * classes, EXCLUDED);
                        for (int r = 0; r < Math.min(topCategories, classes); r++) {
                            penalty[i * classes + ranked[r]] = 0f;
                        }
                    }
                    NDArray restricted = similarities.sub(
                            chunk.create(penalty, new Shape(n, classes)).matMul(members));
                    NDList best = restricted.topK(found, 1, true, true);
                    long[] twoStage = best.get(1).toLongArray();
                    float[] twoStageScores = best.get(0).toFloatArray();
                    for (int i = 0; i < n; i++) {
                        int label = queryLabels[from + i];
                        for (int r = 0; r < found; r++) {
                            globalHits += indexLabels[(int) global[i * found + r]] == label ? 1 : 0;
                            // An image outside the chosen categories (its score pushed below -1) is
                            // not a result: the server returns fewer than k then.
                            boolean result = twoStageScores[i * found + r] >= -1.5f;
                            prototypeHits += result && indexLabels[(int) twoStage[i * found + r]] == label ? 1 : 0;
                        }
                    }
                }
            }
            double total = (double) queries.length * k;
            return new Result(queries.length, k, topCategories, globalHits / total, prototypeHits / total,
                    (double) top1 / queries.length);
        }
    }

    /** Each category's mean embedding (not re-normalised, as stored), normalised for the cosine. */
    static float[] prototypes(float[][] index, int[] labels, int classes) {
        int dimension = index[0].length;
        double[] sums = new double[classes * dimension];
        for (int i = 0; i < index.length; i++) {
            for (int d = 0; d < dimension; d++) {
                sums[labels[i] * dimension + d] += index[i][d];
            }
        }
        float[] out = new float[classes * dimension];
        for (int c = 0; c < classes; c++) {
            double norm = 0;
            for (int d = 0; d < dimension; d++) {
                norm += sums[c * dimension + d] * sums[c * dimension + d];
            }
            norm = Math.sqrt(norm);
            for (int d = 0; d < dimension; d++) {
                out[c * dimension + d] = norm == 0 ? 0f : (float) (sums[c * dimension + d] / norm);
            }
        }
        return out;
    }

    /** The category indices of one query's row of scores, best first. */
    private static int[] rank(float[] scores, int offset, int classes) {
        return IntStream.range(0, classes).boxed()
                .sorted(Comparator.comparingDouble((Integer c) -> -scores[offset + c]).thenComparingInt(c -> c))
                .mapToInt(Integer::intValue).toArray();
    }

    private static float[] flatten(float[][] rows) {
        int dimension = rows[0].length;
        float[] flat = new float[rows.length * dimension];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * dimension, dimension);
        }
        return flat;
    }
}
