package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddingMathTest {

    @Test
    void normalising_gives_a_unit_vector_in_the_same_direction() {
        float[] unit = EmbeddingMath.l2Normalize(new float[] {3, 4});

        assertThat(unit).containsExactly(new float[] {0.6f, 0.8f}, within(1e-7f));
    }

    @Test
    void a_zero_vector_stays_zero_instead_of_becoming_nan() {
        assertThat(EmbeddingMath.l2Normalize(new float[] {0, 0, 0})).containsExactly(0, 0, 0);
    }

    @Test
    void cosine_of_parallel_orthogonal_and_opposite_vectors() {
        assertThat(EmbeddingMath.cosine(new float[] {1, 2}, new float[] {2, 4})).isCloseTo(1, within(1e-12));
        assertThat(EmbeddingMath.cosine(new float[] {1, 0}, new float[] {0, 3})).isCloseTo(0, within(1e-12));
        assertThat(EmbeddingMath.cosine(new float[] {1, 1}, new float[] {-1, -1})).isCloseTo(-1, within(1e-12));
    }

    @Test
    void outputs_become_normalised_embeddings_with_the_arg_max_label_and_its_softmax_probability() {
        float[] embeddings = {3, 4, 0, 2, 9, 9}; // three rows of two, the last is padding
        float[] logits = {0, 0, Float.parseFloat("1.0986123"), 5, 1, 1, 7, 7, 7}; // ln 3 -> p = 3 / 5
        List<String> labels = List.of("a", "b", "c");

        List<Embedding> result = EmbeddingMath.toEmbeddings(embeddings, 2, logits, labels, 2);

        assertThat(result).hasSize(2);
        assertThat(result.get(0).vector()).containsExactly(new float[] {0.6f, 0.8f}, within(1e-7f));
        assertThat(result.get(0).predictedLabel()).isEqualTo("c");
        assertThat(result.get(0).confidence()).isCloseTo(0.6f, within(1e-6f));
        assertThat(result.get(1).vector()).containsExactly(0f, 1f);
        assertThat(result.get(1).predictedLabel()).isEqualTo("a");
    }

    @Test
    void softmax_stays_finite_for_huge_logits() {
        float p = EmbeddingMath.softmaxAt(new float[] {1000f, 999f}, 0, 2, 0);

        assertThat(p).isCloseTo((float) (1 / (1 + Math.exp(-1))), within(1e-6f));
    }

    @Test
    void without_logits_there_is_no_prediction() {
        List<Embedding> result = EmbeddingMath.toEmbeddings(new float[] {1, 0}, 2, null, List.of(), 1);

        assertThat(result.get(0).prediction()).isEmpty();
        assertThat(result.get(0).confidence()).isNaN();
    }
}
