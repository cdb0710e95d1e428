package io.imsrc.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.embed.Embedding;
import io.imsrc.query.index.Prototypes;
import io.imsrc.query.search.CategoryScore;
import io.imsrc.query.search.Hit;
import io.imsrc.query.search.SearchOutcome;
import io.imsrc.query.search.SearchRequest;
import io.imsrc.query.store.PrototypeRecord;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SearchAnswersTest {

    private static final Prototypes PROTOTYPES = Prototypes.of(List.of(
            new PrototypeRecord("cat", new float[] {1, 0}, 7, 1_000),
            new PrototypeRecord("dog", new float[] {0, 1}, 5, 1_000)));
    private static final List<CategoryScore> RANKING =
            List.of(new CategoryScore("cat", 1.0000001), new CategoryScore("dog", 0.25));

    @Test
    void a_full_page_points_to_the_next_one_unless_that_is_past_the_last_offset() {
        SearchRequest page = new SearchRequest(10, 20, true, 3, -1, Set.of(), 0);
        assertThat(SearchAnswers.nextOffset(page, 10)).isEqualTo(30);
        assertThat(SearchAnswers.nextOffset(page, 9)).isNull();
        SearchRequest last = new SearchRequest(10, SearchRequest.MAX_OFFSET - 5, true, 3, -1, Set.of(), 0);
        assertThat(SearchAnswers.nextOffset(last, 10)).isNull();
    }

    @Test
    void the_ranking_carries_clamped_cosines_and_each_prototypes_image_count() {
        assertThat(SearchAnswers.similarities(RANKING, PROTOTYPES)).containsExactly(
                new CategorySimilarity("cat", 1.0, 7), new CategorySimilarity("dog", 0.25, 5));
        assertThat(SearchAnswers.similarities(List.of(new CategoryScore("bird", 0.5)), PROTOTYPES))
                .containsExactly(new CategorySimilarity("bird", 0.5, 0));
    }

    @Test
    void the_prediction_is_the_classifiers_else_the_nearest_prototypes_category() {
        Embedding classified = new Embedding(new float[] {1, 0}, "dog", 0.75f);
        Embedding plain = Embedding.withoutPrediction(new float[] {1, 0});
        assertThat(SearchAnswers.predicted(classified, RANKING)).isEqualTo("dog");
        assertThat(SearchAnswers.confidence(classified)).isEqualTo(0.75);
        assertThat(SearchAnswers.predicted(plain, RANKING)).isEqualTo("cat");
        assertThat(SearchAnswers.confidence(plain)).isNull();
        assertThat(SearchAnswers.predicted(plain, List.of())).isNull();
    }

    @Test
    void a_search_answer_lists_its_hits_with_their_urls_and_where_they_came_from() {
        SearchRequest request = SearchRequest.defaults(2, true);
        SearchOutcome outcome = new SearchOutcome(List.of(new Hit(42, "cat", 0.9), new Hit(7, "dog", 0.8)), RANKING,
                List.of("cat", "dog"), 0, 0);
        SearchTimings timings = new SearchTimings(1, 2, 3, 4, 10);
        SearchResponse answer = SearchAnswers.search(request, outcome, Embedding.withoutPrediction(new float[] {1, 0}),
                RANKING, new SearchAnswers.Generation("m1", "flatl2", 12, PROTOTYPES), 99, timings);
        assertThat(answer.results()).containsExactly(
                new SearchResult(42, "cat", 0.9, ImageApi.contentUrl(42)),
                new SearchResult(7, "dog", 0.8, ImageApi.contentUrl(7)));
        assertThat(answer.nextOffset()).isEqualTo(2);
        assertThat(answer.predictedCategory()).isEqualTo("cat");
        assertThat(answer.searchedCategories()).containsExactly("cat", "dog");
        assertThat(answer.queryImageId()).isEqualTo(99);
        assertThat(answer.modelId()).isEqualTo("m1");
        assertThat(answer.indexType()).isEqualTo("flatl2");
        assertThat(answer.indexSize()).isEqualTo(12);
        assertThat(answer.timings()).isEqualTo(timings);
    }
}
