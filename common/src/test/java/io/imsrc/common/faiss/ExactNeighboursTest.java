package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Exact neighbours gathered chunk by chunk against a brute-force ranking in plain Java. */
class ExactNeighboursTest {
    private static final int D = 16;

    @Test
    void chunks_of_any_size_give_the_brute_force_neighbours_under_the_callers_ids() {
        Random random = new Random(3);
        int n = 2_000;
        float[] vectors = gaussian(random, n);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1_000_000L + 7L * i; // not positions: the merge must map them
        }
        float[] queries = gaussian(random, 30);
        int k = 11;
        for (int chunk : new int[] {n, 500, 97, 5}) {
            ExactNeighbours exact = new ExactNeighbours(queries, D, k);
            for (int from = 0; from < n; from += chunk) {
                int to = Math.min(n, from + chunk);
                exact.offer(Arrays.copyOfRange(vectors, from * D, to * D), Arrays.copyOfRange(ids, from, to));
            }
            SearchResult result = exact.result();
            assertThat(result.queryCount()).isEqualTo(30);
            assertThat(result.k()).isEqualTo(k);
            for (int q = 0; q < 30; q++) {
                int query = q;
                long[] expected = IntStream.range(0, n).boxed()
                        .sorted(Comparator.comparingDouble((Integer i) -> -dot(queries, query, vectors, i)))
                        .limit(k).mapToLong(i -> ids[i]).toArray();
                assertThat(result.ids(q)).as("query %d in chunks of %d", q, chunk).containsExactly(expected);
                assertThat(result.score(q, 0)).isCloseTo((float) dot(queries, q, vectors, (int) ((expected[0] - 1_000_000L) / 7)),
                        org.assertj.core.api.Assertions.within(1e-4f));
            }
        }
    }

    @Test
    void an_offer_larger_than_a_slice_gives_what_small_chunks_give() {
        Random random = new Random(5);
        int n = ExactNeighbours.SLICE + 3_000;
        float[] vectors = gaussian(random, n);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 3L * i + 1;
        }
        float[] queries = gaussian(random, 20);
        ExactNeighbours whole = new ExactNeighbours(queries, D, 11);
        whole.offer(vectors, ids);
        ExactNeighbours chunked = new ExactNeighbours(queries, D, 11);
        for (int from = 0; from < n; from += 1_000) {
            int to = Math.min(n, from + 1_000);
            chunked.offer(Arrays.copyOfRange(vectors, from * D, to * D), Arrays.copyOfRange(ids, from, to));
        }
        for (int q = 0; q < 20; q++) {
            assertThat(whole.result().ids(q)).containsExactly(chunked.result().ids(q));
        }
    }

    @Test
    void fewer_vectors_than_k_leave_the_rest_of_a_row_empty_and_equal_scores_keep_the_first_offered() {
        float[] query = unit(0);
        ExactNeighbours exact = new ExactNeighbours(query, D, 4);
        exact.offer(unit(0), new long[] {10});
        exact.offer(concat(unit(1), unit(0)), new long[] {20, 30}); // 30 ties with 10, offered later
        SearchResult result = exact.result();
        assertThat(result.ids(0)).containsExactly(10, 30, 20, SearchResult.NO_ID);
        assertThat(result.count(0)).isEqualTo(3);
        exact.offer(new float[0], new long[0]);
        assertThat(exact.result().ids(0)).containsExactly(10, 30, 20, SearchResult.NO_ID);
    }

    @Test
    void refuses_rows_that_do_not_match() {
        assertThatThrownBy(() -> new ExactNeighbours(new float[D + 1], D, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExactNeighbours(new float[D], D, 0)).isInstanceOf(IllegalArgumentException.class);
        ExactNeighbours exact = new ExactNeighbours(new float[D], D, 3);
        assertThatThrownBy(() -> exact.offer(new float[2 * D], new long[] {1})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 ids");
    }

    private static float[] gaussian(Random random, int rows) {
        float[] v = new float[rows * D];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static float[] unit(int axis) {
        float[] v = new float[D];
        v[axis] = 1;
        return v;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static double dot(float[] a, int row, float[] b, int other) {
        double sum = 0;
        for (int j = 0; j < D; j++) {
            sum += (double) a[row * D + j] * b[other * D + j];
        }
        return sum;
    }
}
