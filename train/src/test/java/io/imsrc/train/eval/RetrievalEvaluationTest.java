package io.imsrc.train.eval;

import static io.imsrc.testing.TestVectors.dot;
import static io.imsrc.testing.TestVectors.unit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The PyTorch evaluation against a brute-force oracle written plainly in Java. */
class RetrievalEvaluationTest {

    private static final int CLASSES = 5;
    private static final int DIMENSION = 8;

    @Test
    void precision_at_k_matches_a_brute_force_oracle_globally_and_in_two_stages() {
        Random random = new Random(11);
        float[][] centres = new float[CLASSES][];
        for (int c = 0; c < CLASSES; c++) {
            centres[c] = unit(gaussian(random, 1.0f, null));
        }
        int[] indexLabels = random.ints(700, 0, CLASSES).toArray();
        float[][] index = Arrays.stream(indexLabels).mapToObj(c -> unit(gaussian(random, 0.9f, centres[c])))
                .toArray(float[][]::new);
        int[] queryLabels = random.ints(300, 0, CLASSES).toArray();
        float[][] queries = Arrays.stream(queryLabels).mapToObj(c -> unit(gaussian(random, 0.9f, centres[c])))
                .toArray(float[][]::new);

        RetrievalEvaluation.Result result = RetrievalEvaluation.evaluate(index, indexLabels, queries, queryLabels,
                CLASSES, 10, 2);

        double global = 0;
        double twoStage = 0;
        double top1 = 0;
        float[] prototypes = RetrievalEvaluation.prototypes(index, indexLabels, CLASSES);
        for (int q = 0; q < queries.length; q++) {
            float[] query = queries[q];
            global += precision(query, queryLabels[q], index, indexLabels, i -> true);
            Integer[] ranked = IntStream.range(0, CLASSES).boxed()
                    .sorted(Comparator.comparingDouble((Integer c) -> -dot(query, Arrays.copyOfRange(
                            prototypes, c * DIMENSION, (c + 1) * DIMENSION)))).toArray(Integer[]::new);
            top1 += ranked[0] == queryLabels[q] ? 1 : 0;
            twoStage += precision(query, queryLabels[q], index, indexLabels,
                    i -> indexLabels[i] == ranked[0] || indexLabels[i] == ranked[1]);
        }
        assertThat(result.queries()).isEqualTo(300);
        assertThat(result.precisionGlobal()).isCloseTo(global / queries.length, within(1e-9));
        assertThat(result.precisionPrototypes()).isCloseTo(twoStage / queries.length, within(1e-9));
        assertThat(result.prototypeTop1()).isCloseTo(top1 / queries.length, within(1e-9));
        assertThat(result.precisionGlobal()).as("the data is neither trivial nor hopeless").isBetween(0.3, 0.99);
    }

    @Test
    void fewer_images_than_k_count_as_missing_results_and_do_not_fail() {
        float[][] index = {{1, 0}, {0.9f, 0.436f}, {0, 1}, {-0.1f, 0.995f}, {-1, 0}, {-0.995f, -0.1f}};
        int[] labels = {0, 0, 1, 1, 2, 2};
        RetrievalEvaluation.Result result = RetrievalEvaluation.evaluate(index, labels,
                new float[][] {{1, 0}}, new int[] {0}, 3, 10, 1);
        // Six images in all, two of the query's category; in two stages only those two are results.
        assertThat(result.precisionGlobal()).isCloseTo(0.2, within(1e-9));
        assertThat(result.precisionPrototypes()).isCloseTo(0.2, within(1e-9));
        assertThat(result.prototypeTop1()).isEqualTo(1.0);
    }

    private static double precision(float[] query, int label, float[][] index, int[] labels,
            java.util.function.IntPredicate allowed) {
        int[] best = IntStream.range(0, index.length).filter(allowed).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -dot(query, index[i])).thenComparingInt(i -> i))
                .limit(10).mapToInt(Integer::intValue).toArray();
        return Arrays.stream(best).filter(i -> labels[i] == label).count() / 10.0;
    }

    private static float[] gaussian(Random random, float sigma, float[] mean) {
        float[] v = new float[DIMENSION];
        for (int d = 0; d < DIMENSION; d++) {
            v[d] = (mean == null ? 0 : mean[d]) + sigma * (float) random.nextGaussian() / (float) Math.sqrt(DIMENSION);
        }
        return v;
    }
}
