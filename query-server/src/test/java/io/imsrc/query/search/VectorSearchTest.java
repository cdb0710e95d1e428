package io.imsrc.query.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.index.IndexSnapshot;
import io.imsrc.query.index.Prototypes;
import io.imsrc.query.store.PrototypeRecord;
import io.imsrc.query.store.VectorRow;
import io.imsrc.query.testing.VectorRows;
import io.imsrc.testing.TestVectors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The two search stages against a brute-force oracle, on an exact (flat) index. */
class VectorSearchTest {

    private static final int DIMENSION = 64;
    private static final VectorSearch SEARCH = VectorSearch.sequential();
    private static Map<String, List<VectorRow>> rows;
    private static IndexSnapshot snapshot;

    @BeforeAll
    static void build() {
        rows = VectorRows.clustered(10, 300, DIMENSION, 42);
        snapshot = IndexSnapshot.build("m", IndexType.FLATL2, DIMENSION, 0, rows);
        List<PrototypeRecord> prototypes = new ArrayList<>();
        VectorRows.means(rows).forEach((category, mean) -> prototypes.add(new PrototypeRecord(category, mean, 300, 0)));
        snapshot.replacePrototypes(Prototypes.of(prototypes));
    }

    @AfterAll
    static void free() {
        snapshot.release();
    }

    private static void assertSameHits(List<Hit> actual, List<Hit> expected) {
        assertThat(actual).extracting(Hit::imageId).containsExactlyElementsOf(expected.stream().map(Hit::imageId).toList());
        for (int i = 0; i < actual.size(); i++) {
            assertThat(actual.get(i).category()).isEqualTo(expected.get(i).category());
            assertThat(actual.get(i).similarity()).isCloseTo(expected.get(i).similarity(), within(1e-5));
        }
    }

    @Test
    void searching_everything_returns_exactly_the_brute_force_top_k() {
        Random random = new Random(1);
        for (int q = 0; q < 20; q++) {
            float[] query = TestVectors.randomUnit(random, DIMENSION);
            SearchRequest request = new SearchRequest(10, 0, false, 3, -1, Set.of(), 0);

            SearchOutcome outcome = SEARCH.search(snapshot, query, request);

            assertSameHits(outcome.hits(), VectorRows.exactSearch(rows, rows.keySet(), query, 0, 10));
            assertThat(outcome.ranking()).isEmpty();
            assertThat(outcome.searched()).hasSize(10);
        }
    }

    @Test
    void with_prototypes_the_results_are_brute_force_over_the_best_ranked_categories() {
        Random random = new Random(2);
        Map<String, float[]> means = VectorRows.means(rows);
        for (int q = 0; q < 20; q++) {
            // A query near one category's images, as a real query is.
            List<VectorRow> category = rows.get("c" + (q % 10));
            float[] query = category.get(random.nextInt(category.size())).vector();
            SearchRequest request = new SearchRequest(10, 0, true, 3, -1, Set.of(), 0);

            SearchOutcome outcome = SEARCH.search(snapshot, query, request);

            // The oracle's ranking: cosine with each (normalised) mean.
            List<String> expectedRanking = means.entrySet().stream()
                    .sorted((a, b) -> Double.compare(cosine(query, b.getValue()), cosine(query, a.getValue())))
                    .map(Map.Entry::getKey).toList();
            assertThat(outcome.ranking()).extracting(CategoryScore::category).containsExactlyElementsOf(expectedRanking);
            assertThat(outcome.searched()).containsExactlyElementsOf(expectedRanking.subList(0, 3));
            assertSameHits(outcome.hits(), VectorRows.exactSearch(rows, expectedRanking.subList(0, 3), query, 0, 10));
            assertThat(outcome.hits().get(0).similarity()).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void pages_follow_each_other_without_overlap_and_match_the_oracle() {
        float[] query = TestVectors.randomUnit(new Random(3), DIMENSION);
        List<Hit> expected = VectorRows.exactSearch(rows, rows.keySet(), query, 0, 50);
        List<Hit> pages = new ArrayList<>();
        for (int offset = 0; offset < 50; offset += 10) {
            pages.addAll(SEARCH.search(snapshot, query, new SearchRequest(10, offset, false, 3, -1, Set.of(), 0)).hits());
        }
        assertSameHits(pages, expected);
    }

    @Test
    void excluded_images_thresholds_and_named_categories_are_honoured() {
        VectorRow self = rows.get("c4").get(7);
        SearchOutcome similar = SEARCH.search(snapshot, self.vector(),
                new SearchRequest(5, 0, true, 1, -1, Set.of(), 0).excluding(self.imageId()));
        assertThat(similar.hits()).hasSize(5).noneMatch(h -> h.imageId() == self.imageId());
        assertSameHits(similar.hits(), VectorRows.exactSearch(rows, List.of("c4"), self.vector(), 1, 5));

        SearchOutcome strict = SEARCH.search(snapshot, self.vector(), new SearchRequest(50, 0, false, 3, 0.9, Set.of(), 0));
        assertThat(strict.hits()).allMatch(h -> h.similarity() >= 0.9);

        SearchOutcome named = SEARCH.search(snapshot, self.vector(),
                new SearchRequest(10, 0, true, 2, -1, Set.of("c1", "c2", "c3"), 0));
        assertThat(named.ranking()).extracting(CategoryScore::category).containsExactlyInAnyOrder("c1", "c2", "c3");
        assertThat(named.hits()).allMatch(h -> Set.of("c1", "c2", "c3").contains(h.category()));
    }

    @Test
    void a_lone_search_of_large_categories_is_shared_with_helper_threads_and_finds_the_same() {
        Map<String, List<VectorRow>> large = VectorRows.clustered(4, 15_000, DIMENSION, 7);
        IndexSnapshot big = IndexSnapshot.build("m", IndexType.FLATL2, DIMENSION, 0, large);
        try (VectorSearch parallel = new VectorSearch(4)) {
            Random random = new Random(3);
            for (int q = 0; q < 100; q++) {
                float[] query = TestVectors.randomUnit(random, DIMENSION);
                SearchRequest request = new SearchRequest(10, q % 3, false, 3, -1, Set.of(), 0);

                SearchOutcome outcome = parallel.search(big, query, request);

                assertSameHits(outcome.hits(), SEARCH.search(big, query, request).hits());
                assertSameHits(outcome.hits(), VectorRows.exactSearch(large, large.keySet(), query, q % 3, 10));
            }
            // 300 categories handed over for 100 searches: a helper thread that never took one is broken
            assertThat(parallel.helped()).isPositive();
        } finally {
            big.release();
        }
    }

    @Test
    void helpers_are_called_only_for_large_searches_and_only_while_cores_are_free() {
        long large = VectorSearch.PARALLEL_FROM;
        assertThat(VectorSearch.helpersFor(3, large, 2, 1)).isEqualTo(1);
        assertThat(VectorSearch.helpersFor(3, large, 8, 1)).as("one per further category").isEqualTo(2);
        assertThat(VectorSearch.helpersFor(3, large, 8, 7)).isEqualTo(1);
        assertThat(VectorSearch.helpersFor(3, large, 2, 2)).as("every core has a search").isZero();
        assertThat(VectorSearch.helpersFor(3, large, 2, 5)).isZero();
        assertThat(VectorSearch.helpersFor(3, large - 1, 8, 1)).as("too small to share").isZero();
        assertThat(VectorSearch.helpersFor(1, 10 * large, 8, 1)).as("one category").isZero();
        assertThat(VectorSearch.helpersFor(3, large, 1, 1)).as("SEARCH_THREADS=1").isZero();
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
