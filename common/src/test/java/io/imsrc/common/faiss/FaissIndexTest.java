package io.imsrc.common.faiss;

import static io.imsrc.testing.TestVectors.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.testing.ExactSearch;
import io.imsrc.testing.TestVectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The facade against the real FAISS, checked against {@link ExactSearch} on 10,000
 * seeded random 64-dimensional unit vectors and 100 queries.
 *
 * <p>Approximate settings, chosen for recall@10 of at least 0.95 on this data: IVF with
 * 100 lists and nprobe 80 (measured 0.989), HNSW with M = 32 and efSearch 128 (0.995).
 * Random vectors have no clusters, so IVF has to visit most of its lists: nprobe 64 of
 * 100 gave 0.957, and on 400 lists (IndexType's 4 sqrt(n)) nprobe 80 gave only 0.77 and
 * it took 256 for 0.98. FAISS's defaults (nprobe 1, efSearch 16) gave 0.09 and 0.58.
 */
class FaissIndexTest {
    private static final int D = 64;
    private static final int N = 10_000;
    private static final int NQ = 100;
    private static final int K = 10;
    private static final int IVF_NPROBE = 80;
    private static final int HNSW_EF_SEARCH = 128;
    /** Measured 0.986: 8-bit codes lose little, even on random vectors. */
    private static final double SQ8_MIN_RECALL = 0.95;
    /**
     * Measured 0.526 with 16 bytes per 64-d vector at nprobe 80 of 100: PQ's codes, not the lists,
     * bound the recall (a broken index would find about 0.001); cosine of a reconstruction with its
     * vector at least 0.95.
     */
    private static final double IVF_PQ_MIN_RECALL = 0.45;
    private static final double IVF_PQ_MIN_RECONSTRUCTION_COSINE = 0.9;

    private static float[] base;
    private static long[] ids;
    private static float[] queries;
    private static ExactSearch.TopK exactInnerProduct;

    @TempDir
    Path tempDir;

    /**
     * One OpenMP thread for the calling thread, as the query server searches: training PQ's 16
     * codebooks took 56 s with 2 threads on the busy 2-core box, 9 s with one.
     */
    @BeforeEach
    void oneFaissThread() {
        FaissThreads.setNumThreads(1);
    }

    @BeforeAll
    static void createData() {
        base = TestVectors.randomUnitVectors(N, D, 42);
        ids = TestVectors.distinctIds(N, 43);
        queries = TestVectors.randomUnitVectors(NQ, D, 44);
        exactInnerProduct = ExactSearch.topK(base, ids, queries, D, K, ExactSearch.Measure.INNER_PRODUCT);
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void flat_index_returns_the_exact_top_10(Metric metric) {
        ExactSearch.TopK exact = metric == Metric.INNER_PRODUCT
                ? exactInnerProduct
                : ExactSearch.topK(base, ids, queries, D, K, ExactSearch.Measure.valueOf(metric.name()));
        try (FaissIndex index = FaissIndex.create(D, "IDMap2,Flat", metric)) {
            index.addWithIds(base, ids);

            // 100 queries take FAISS's BLAS path, one query its SIMD loop: check both.
            SearchResult batch = index.search(queries, K);
            for (int q = 0; q < NQ; q++) {
                assertSameHits(batch, q, exact, q);
                assertSameHits(index.search(row(queries, D, q), K), 0, exact, q);
            }
        }
    }

    @Test
    void ivf_index_reaches_recall_at_10_of_095_with_nprobe_80_of_100_lists() {
        try (FaissIndex index = FaissIndex.create(D, "IVF100,Flat", Metric.INNER_PRODUCT)) {
            assertThat(index.isTrained()).isFalse();
            index.train(base);
            assertThat(index.isTrained()).isTrue();
            index.addWithIds(base, ids);

            double oneList = recall(index.search(queries, K));
            index.setNprobe(IVF_NPROBE);
            double recall = recall(index.search(queries, K));

            assertThat(recall).isGreaterThanOrEqualTo(0.95);
            assertThat(oneList).as("recall with FAISS's default nprobe 1").isLessThan(0.5);
        }
    }

    @Test
    void an_ivf_trained_with_the_centroids_of_another_holds_them_and_searches_as_it_does() {
        try (FaissIndex trained = FaissIndex.create(D, "IVF100,Flat", Metric.INNER_PRODUCT);
                FaissIndex given = FaissIndex.create(D, "IVF100,Flat", Metric.INNER_PRODUCT)) {
            trained.train(base);
            float[] centroids = trained.listCentroids();
            assertThat(trained.listCount()).isEqualTo(100);
            assertThat(centroids).hasSize(100 * D);

            // Any sample: an IVF-Flat needs nothing else trained once its quantizer is full.
            given.trainWithCentroids(centroids, Arrays.copyOf(base, 10 * D));
            assertThat(given.isTrained()).isTrue();
            assertThat(given.listCentroids()).containsExactly(centroids);

            trained.addWithIds(base, ids);
            given.addWithIds(base, ids);
            trained.setNprobe(IVF_NPROBE);
            given.setNprobe(IVF_NPROBE);
            SearchResult expected = trained.search(queries, K);
            SearchResult found = given.search(queries, K);
            for (int q = 0; q < NQ; q++) {
                assertThat(found.ids(q)).containsExactly(expected.ids(q));
            }
        }
    }

    @Test
    void an_ivf_pq_given_its_centroids_still_trains_its_product_quantizer_on_the_sample() {
        try (FaissIndex trained = FaissIndex.create(D, "IVF100,Flat", Metric.INNER_PRODUCT);
                FaissIndex ivfPq = FaissIndex.create(D, "IVF100,PQ16np", Metric.INNER_PRODUCT)) {
            trained.train(base);
            ivfPq.trainWithCentroids(trained.listCentroids(), base);
            ivfPq.addWithIds(base, ids);
            ivfPq.setNprobe(IVF_NPROBE);

            assertThat(recall(ivfPq.search(queries, K))).isGreaterThanOrEqualTo(IVF_PQ_MIN_RECALL);
        }
    }

    @Test
    void centroids_are_only_for_ivf_indexes_and_only_once() {
        try (FaissIndex flat = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT);
                FaissIndex ivf = FaissIndex.create(D, "IVF10,Flat", Metric.INNER_PRODUCT)) {
            float[] ten = Arrays.copyOf(base, 10 * D);
            assertThatThrownBy(flat::listCentroids).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> flat.trainWithCentroids(ten, ten))
                    .isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(ivf::listCentroids).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not trained");
            assertThatThrownBy(() -> ivf.trainWithCentroids(Arrays.copyOf(base, 9 * D), ten))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 10 centroids, got 9");

            ivf.trainWithCentroids(ten, ten);
            assertThatThrownBy(() -> ivf.trainWithCentroids(ten, ten))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("trained already");
            assertThat(ivf.listCentroids()).containsExactly(ten);
        }
    }

    @Test
    void vectors_added_to_chosen_lists_are_found_there_and_only_by_searches_that_probe_them() {
        try (FaissIndex ivf = FaissIndex.create(D, "IVF10,Flat", Metric.INNER_PRODUCT)) {
            float[] ten = Arrays.copyOf(base, 10 * D);
            ivf.trainWithCentroids(ten, ten);
            // Centroid 3 itself goes into list 7, not its own list 3.
            ivf.addToLists(TestVectors.row(ten, D, 3), new long[] {33}, new long[] {7});
            ivf.setNprobe(1);
            assertThat(ivf.search(TestVectors.row(ten, D, 3), 1).id(0, 0))
                    .as("a search probing only its nearest list, 3").isEqualTo(SearchResult.NO_ID);
            assertThat(ivf.search(TestVectors.row(ten, D, 7), 1).id(0, 0))
                    .as("a search from centroid 7 probing list 7").isEqualTo(33);
            ivf.setNprobe(10);
            assertThat(ivf.search(TestVectors.row(ten, D, 3), 1).id(0, 0)).isEqualTo(33);
            assertThat(ivf.ntotal()).isEqualTo(1);

            // List -1: left out, as FAISS's own add leaves out a vector with no nearest list, and
            // counted all the same.
            ivf.addToLists(TestVectors.row(ten, D, 5), new long[] {55}, new long[] {-1});
            assertThat(ivf.search(TestVectors.row(ten, D, 5), 1).id(0, 0)).isEqualTo(33);
            assertThat(ivf.ntotal()).isEqualTo(2);
        }
    }

    @Test
    void chosen_lists_are_only_for_trained_bare_ivf_indexes_and_must_exist() {
        try (FaissIndex flat = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT);
                FaissIndex mapped = FaissIndex.create(D, "IDMap2,IVF10,Flat", Metric.INNER_PRODUCT);
                FaissIndex ivf = FaissIndex.create(D, "IVF10,Flat", Metric.INNER_PRODUCT)) {
            float[] ten = Arrays.copyOf(base, 10 * D);
            float[] one = Arrays.copyOf(base, D);
            assertThatThrownBy(() -> flat.addToLists(one, new long[] {1}, new long[] {0}))
                    .isInstanceOf(UnsupportedOperationException.class);
            mapped.train(ten);
            assertThatThrownBy(() -> mapped.addToLists(one, new long[] {1}, new long[] {0}))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("id map");
            assertThatThrownBy(() -> ivf.addToLists(one, new long[] {1}, new long[] {0}))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("not trained");
            ivf.trainWithCentroids(ten, ten);
            assertThatThrownBy(() -> ivf.addToLists(one, new long[] {1}, new long[] {10}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("list 10 is not one of the 10");
            assertThatThrownBy(() -> ivf.addToLists(one, new long[] {1}, new long[] {-2}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nor -1");
            assertThatThrownBy(() -> ivf.addToLists(one, new long[] {1}, new long[] {0, 1}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 lists");
            assertThatThrownBy(() -> ivf.addToLists(one, new long[] {-5}, new long[] {0}))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(ivf.ntotal()).as("nothing refused went in").isZero();
        }
    }

    @Test
    void a_failed_training_with_centroids_leaves_the_index_untrained_and_trainable() {
        try (FaissIndex ivfPq = FaissIndex.create(D, "IVF10,PQ16np", Metric.INNER_PRODUCT)) {
            float[] ten = Arrays.copyOf(base, 10 * D);
            // PQ's 256 centroids per sub-vector cannot be trained on 10 points.
            assertThatThrownBy(() -> ivfPq.trainWithCentroids(ten, ten)).isInstanceOf(FaissException.class);
            assertThat(ivfPq.isTrained()).isFalse();
            assertThatThrownBy(ivfPq::listCentroids).isInstanceOf(IllegalStateException.class);

            ivfPq.trainWithCentroids(ten, base);
            assertThat(ivfPq.isTrained()).isTrue();
            assertThat(ivfPq.listCentroids()).containsExactly(ten);
        }
    }

    @Test
    void hnsw_index_reaches_recall_at_10_of_095_with_ef_search_128() {
        try (FaissIndex index = FaissIndex.create(D, "IDMap2,HNSW32,Flat", Metric.INNER_PRODUCT)) {
            index.addWithIds(base, ids);
            index.setEfSearch(HNSW_EF_SEARCH);

            assertThat(recall(index.search(queries, K))).isGreaterThanOrEqualTo(0.95);
        }
    }

    @Test
    void sq8_index_reaches_recall_at_10_of_095_with_a_quarter_of_the_memory() throws Exception {
        try (FaissIndex sq8 = FaissIndex.create(D, "IDMap2,SQ8", Metric.INNER_PRODUCT);
                FaissIndex flat = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT)) {
            assertThat(sq8.isTrained()).as("the scalar quantizer learns each dimension's range").isFalse();
            sq8.train(base);
            sq8.addWithIds(base, ids);
            flat.addWithIds(base, ids);

            assertThat(sq8.ntotal()).isEqualTo(N);
            assertThat(recall(sq8.search(queries, K))).isGreaterThanOrEqualTo(SQ8_MIN_RECALL);
            assertThat(fileSize(sq8)).isLessThan(fileSize(flat) * 35 / 100);
        }
    }

    @Test
    void ivf_pq_index_finds_half_of_the_exact_top_10_in_under_a_quarter_of_the_memory() throws Exception {
        try (FaissIndex ivfPq = FaissIndex.create(D, "IVF100,PQ16np", Metric.INNER_PRODUCT);
                FaissIndex flat = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT)) {
            assertThat(ivfPq.isTrained()).isFalse();
            ivfPq.train(base);
            ivfPq.addWithIds(base, ids);
            flat.addWithIds(base, ids);

            double oneList = recall(ivfPq.search(queries, K));
            ivfPq.setNprobe(IVF_NPROBE);
            double recall = recall(ivfPq.search(queries, K));

            assertThat(recall).isGreaterThanOrEqualTo(IVF_PQ_MIN_RECALL);
            assertThat(oneList).as("recall with FAISS's default nprobe 1").isLessThan(recall);
            // 16 code bytes and an 8-byte id per vector, against 256 bytes and an id, plus the
            // codebooks and the list centroids, which weigh at 10,000 vectors (0.19 of flat measured).
            assertThat(fileSize(ivfPq)).isLessThan(fileSize(flat) / 4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"IDMap2,SQ8", "IVF100,PQ16np"})
    void compressed_indexes_reconstruct_an_approximation_of_the_added_vector(String description) {
        try (FaissIndex index = filled(description)) {
            for (int i : new int[] {0, 4321, N - 1}) {
                float[] back = index.reconstruct(ids[i]);
                assertThat(back).isNotEqualTo(row(base, D, i));
                assertThat(TestVectors.dot(back, row(base, D, i)) / norm(back))
                        .as("cosine of the reconstruction with the original")
                        .isGreaterThan(description.contains("SQ8") ? 0.999 : IVF_PQ_MIN_RECONSTRUCTION_COSINE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"IDMap2,Flat", "IVF100,Flat", "IDMap2,HNSW32,Flat", "IDMap2,SQ8", "IVF100,PQ16np"})
    void write_then_read_gives_identical_search_results(String description) {
        Path file = tempDir.resolve("index.faiss");
        SearchResult before;
        try (FaissIndex index = filled(description)) {
            before = index.search(queries, K);
            index.write(file);
        }

        try (FaissIndex read = FaissIndex.read(file)) {
            SearchResult after = read.search(queries, K);

            assertThat(read.ntotal()).isEqualTo(N);
            assertThat(read.dimension()).isEqualTo(D);
            assertThat(read.metric()).isEqualTo(Metric.INNER_PRODUCT);
            for (int q = 0; q < NQ; q++) {
                assertThat(after.ids(q)).isEqualTo(before.ids(q));
                assertThat(after.scores(q)).isEqualTo(before.scores(q));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"IDMap2,Flat", "IVF100,Flat", "IDMap2,SQ8", "IVF100,PQ16np"})
    void removed_ids_are_never_returned_and_ntotal_drops(String description) {
        try (FaissIndex index = filled(description)) {
            // Remove every exact top-10 hit of the queries, plus an id the index never held.
            long[] removed = Arrays.stream(exactInnerProduct.ids()).flatMapToLong(Arrays::stream).distinct().toArray();
            long[] withUnknown = Arrays.copyOf(removed, removed.length + 1);
            withUnknown[removed.length] = 7;

            assertThat(index.removeIds(withUnknown)).isEqualTo(removed.length);

            assertThat(index.ntotal()).isEqualTo(N - removed.length);
            SearchResult result = index.search(queries, K);
            for (int q = 0; q < NQ; q++) {
                assertThat(result.ids(q)).doesNotContain(removed);
            }
            assertThatThrownBy(() -> index.reconstruct(removed[0])).isInstanceOf(FaissException.class);
            // The survivors keep their ids: a remaining vector still finds itself, first when the
            // index stores it exactly, among its approximate top 10 when it stores a code.
            int kept = indexOfFirstIdNotIn(removed);
            if (description.endsWith(",Flat")) {
                assertThat(index.search(row(base, D, kept), 1).id(0, 0)).isEqualTo(ids[kept]);
            } else {
                assertThat(index.search(row(base, D, kept), K).ids(0)).contains(ids[kept]);
            }
            assertThat(index.reconstruct(ids[kept])).hasSize(D);
        }
    }

    @Test
    void removing_from_an_hnsw_index_throws_a_clear_exception_and_changes_nothing() {
        try (FaissIndex index = FaissIndex.create(D, "IDMap2,HNSW32,Flat", Metric.INNER_PRODUCT)) {
            index.addWithIds(Arrays.copyOf(base, 100 * D), Arrays.copyOf(ids, 100));

            assertThatThrownBy(() -> index.removeIds(ids[0]))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("HNSW")
                    .hasMessageContaining("remove");
            assertThat(index.ntotal()).isEqualTo(100);
        }
    }

    @Test
    void removing_from_an_ivf_index_inside_an_id_map_is_refused_because_faiss_would_mislabel_results() {
        try (FaissIndex index = FaissIndex.create(D, "IDMap2,IVF100,Flat", Metric.INNER_PRODUCT)) {
            index.train(base);
            index.addWithIds(base, ids);

            assertThatThrownBy(() -> index.removeIds(ids[0]))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("IVF<n>,Flat");
            assertThat(index.ntotal()).isEqualTo(N);
        }
    }

    @Test
    void a_bad_factory_string_throws_a_faiss_exception_with_faiss_s_message() {
        assertThatThrownBy(() -> FaissIndex.create(D, "Bogus17", Metric.INNER_PRODUCT))
                .isInstanceOf(FaissException.class)
                .hasMessageContaining("index_factory(64, \"Bogus17\"")
                .hasMessageContaining("could not parse index string Bogus17");
        assertThatThrownBy(() -> FaissIndex.create(D, "IVF12,Bogus", Metric.INNER_PRODUCT))
                .isInstanceOf(FaissException.class)
                .hasMessageContaining("could not parse code description Bogus");
    }

    @ParameterizedTest
    @ValueSource(strings = {"IDMap2,Flat", "IVF100,Flat", "IDMap2,HNSW32,Flat"})
    void reconstruct_returns_the_added_vector(String description) {
        try (FaissIndex index = filled(description)) {
            for (int i : new int[] {0, 4321, N - 1}) {
                assertThat(index.reconstruct(ids[i])).containsExactly(row(base, D, i));
            }
            assertThatThrownBy(() -> index.reconstruct(12345))
                    .isInstanceOf(FaissException.class)
                    .hasMessageContaining("reconstruct(12345)");
        }
    }

    @Test
    void using_a_closed_index_throws_illegal_state_exception_and_close_is_idempotent() {
        FaissIndex index = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT);
        index.addWithIds(row(base, D, 0), new long[] {ids[0]});
        index.close();
        index.close();

        assertThatThrownBy(() -> index.search(row(queries, D, 0), K)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(index::ntotal).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> index.addWithIds(row(base, D, 1), new long[] {ids[1]}))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> index.removeIds(ids[0])).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> index.reconstruct(ids[0])).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> index.write(tempDir.resolve("closed.faiss"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void bad_arguments_are_rejected_before_reaching_faiss() {
        try (FaissIndex index = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT)) {
            assertThatThrownBy(() -> index.search(new float[D + 1], K))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("multiple of the dimension 64");
            assertThatThrownBy(() -> index.search(new float[0], K)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> index.search(new float[D], 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("k must be positive");
            assertThatThrownBy(() -> index.addWithIds(new float[2 * D], new long[] {1}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("2 vectors but 1 ids");
            assertThatThrownBy(() -> index.addWithIds(new float[D], new long[] {-1}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("non-negative");
            assertThatThrownBy(() -> index.setNprobe(0)).isInstanceOf(IllegalArgumentException.class);
            assertThat(index.ntotal()).isZero();
        }
        assertThatThrownBy(() -> FaissIndex.create(0, "Flat", Metric.L2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaissIndex.read(tempDir.resolve("missing.faiss")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing.faiss");
    }

    @Test
    void what_only_faiss_can_judge_comes_back_as_a_faiss_exception() {
        try (FaissIndex flat = FaissIndex.create(D, "Flat", Metric.INNER_PRODUCT);
                FaissIndex ivf = FaissIndex.create(D, "IVF100,Flat", Metric.INNER_PRODUCT)) {
            assertThatThrownBy(() -> flat.addWithIds(row(base, D, 0), new long[] {1}))
                    .isInstanceOf(FaissException.class)
                    .hasMessageContaining("add_with_ids not implemented");
            assertThatThrownBy(() -> flat.setNprobe(8))
                    .isInstanceOf(FaissException.class)
                    .hasMessageContaining("could not set parameter nprobe");
            assertThatThrownBy(() -> ivf.add(row(base, D, 0))).isInstanceOf(FaissException.class);
            assertThatThrownBy(() -> ivf.train(Arrays.copyOf(base, 10 * D)))
                    .isInstanceOf(FaissException.class)
                    .hasMessageContaining("should be at least as large as number of clusters");
            assertThatThrownBy(() -> ivf.write(tempDir.resolve("no/such/dir/index.faiss")))
                    .isInstanceOf(FaissException.class);
        }
    }

    @Test
    void an_index_without_an_id_map_numbers_vectors_from_zero() {
        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.INNER_PRODUCT)) {
            index.add(Arrays.copyOf(base, 3 * D));

            assertThat(index.search(row(base, D, 2), 1).id(0, 0)).isEqualTo(2);
            assertThat(index.reconstruct(1)).containsExactly(row(base, D, 1));
        }
    }

    @Test
    void fewer_vectors_than_k_pad_the_result_with_no_id() {
        try (FaissIndex index = FaissIndex.create(D, "IDMap2,Flat", Metric.INNER_PRODUCT)) {
            index.addWithIds(Arrays.copyOf(base, 3 * D), Arrays.copyOf(ids, 3));

            SearchResult result = index.search(row(queries, D, 0), 5);

            assertThat(result.count(0)).isEqualTo(3);
            assertThat(result.id(0, 3)).isEqualTo(SearchResult.NO_ID);
            assertThat(result.id(0, 4)).isEqualTo(SearchResult.NO_ID);
        }
    }

    @Test
    void concurrent_searches_return_what_a_single_thread_gets() throws Exception {
        try (FaissIndex index = filled("IDMap2,HNSW32,Flat")) {
            index.setEfSearch(HNSW_EF_SEARCH);
            SearchResult expected = index.search(queries, K);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<long[]>> futures = new ArrayList<>();
                for (int q = 0; q < NQ; q++) {
                    int query = q;
                    futures.add(pool.submit(() -> index.search(row(queries, D, query), K).ids(0)));
                }
                for (int q = 0; q < NQ; q++) {
                    assertThat(futures.get(q).get()).isEqualTo(expected.ids(q));
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** An inner-product index of {@code description} holding all of base, trained where needed. */
    private static FaissIndex filled(String description) {
        FaissIndex index = FaissIndex.create(D, description, Metric.INNER_PRODUCT);
        try {
            if (!index.isTrained()) {
                index.train(base);
            }
            if (description.startsWith("IVF")) {
                index.setNprobe(IVF_NPROBE);
            }
            index.addWithIds(base, ids);
            return index;
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
    }

    /**
     * Same top-10 ids as the exact search, and the same scores rank by rank. Ids are
     * compared as a set so that two near-equal scores, which float and double arithmetic
     * may order differently, cannot fail the test; the scores still pin the order.
     */
    private static void assertSameHits(SearchResult result, int row, ExactSearch.TopK exact, int q) {
        assertThat(result.ids(row)).containsExactlyInAnyOrder(exact.ids()[q]);
        float[] scores = result.scores(row);
        for (int r = 0; r < K; r++) {
            assertThat((double) scores[r]).isCloseTo(exact.scores()[q][r], within(1e-5));
        }
    }

    /** The fraction of the exact top-10 inner-product ids that {@code result} also returns. */
    private static double recall(SearchResult result) {
        return exactInnerProduct.recall(result::ids);
    }

    private long fileSize(FaissIndex index) throws IOException {
        Path file = Files.createTempFile(tempDir, "size", ".faiss");
        index.write(file);
        return Files.size(file);
    }

    private static double norm(float[] v) {
        return Math.sqrt(TestVectors.dot(v, v));
    }

    private static int indexOfFirstIdNotIn(long[] removed) {
        return LongStream.range(0, N)
                .filter(i -> Arrays.stream(removed).noneMatch(id -> id == ids[(int) i]))
                .mapToInt(i -> (int) i)
                .findFirst()
                .orElseThrow();
    }
}
