package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.testing.TestVectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class IndexTypeTest {

    @ParameterizedTest
    @CsvSource(value = {"flatl2|FLATL2", "IVFFlat|IVFFLAT", " HNSW |HNSW", "auto|AUTO", "SQ8|SQ8", "ivfpq|IVFPQ"},
            delimiter = '|', ignoreLeadingAndTrailingWhitespace = false)
    void config_values_parse_ignoring_case_and_blanks(String value, IndexType type) {
        assertThat(IndexType.parse(value)).isEqualTo(type);
    }

    @Test
    void an_unknown_value_is_rejected_with_the_accepted_values() {
        assertThatThrownBy(() -> IndexType.parse("lsh"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'lsh'")
                .hasMessageContaining("auto, flatl2, ivfflat, hnsw, sq8, ivfpq");
        assertThatThrownBy(() -> IndexType.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ivf_uses_four_sqrt_n_lists_and_falls_back_to_flat_below_39_vectors_per_list() {
        assertThat(IndexType.IVFFLAT.spec(60_000, 64).factoryDescription()).isEqualTo("IVF980,Flat");
        assertThat(IndexType.IVFFLAT.spec(1_000_000, 64).factoryDescription()).isEqualTo("IVF4000,Flat");
        // 4 sqrt(24,336) = 624 lists need 24,336 vectors; one fewer is too few to train.
        assertThat(IndexType.IVFFLAT.spec(24_336, 64).factoryDescription()).isEqualTo("IVF624,Flat");
        assertThat(IndexType.IVFFLAT.spec(24_335, 64).factoryDescription()).isEqualTo("IDMap2,Flat");
        assertThat(IndexType.IVFFLAT.spec(0, 64).factoryDescription()).isEqualTo("IDMap2,Flat");
    }

    @Test
    void auto_is_exact_below_its_threshold_and_ivf_from_it() {
        long threshold = IndexType.AUTO_APPROXIMATE_FROM;
        assertThat(IndexType.AUTO.spec(0, 64)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.AUTO.spec(threshold - 1, 64)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.AUTO.spec(threshold, 64)).isEqualTo(new IndexSpec.Ivf(IndexType.nlist(threshold)));
        assertThat(IndexType.AUTO.spec(2_500_000, 2048)).isEqualTo(new IndexSpec.Ivf(6325));
    }

    @Test
    void sq8_is_flat_until_there_are_enough_vectors_to_learn_the_ranges() {
        assertThat(IndexType.SQ8.spec(999, 2048)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.SQ8.spec(1_000, 2048)).isEqualTo(new IndexSpec.Sq8());
        assertThat(IndexType.SQ8.spec(10_000_000, 2048)).isEqualTo(new IndexSpec.Sq8());
    }

    @Test
    void ivf_pq_is_sq8_until_its_lists_can_be_trained_and_takes_a_quarter_of_the_dimension_in_bytes() {
        assertThat(IndexType.IVFPQ.spec(24_336, 2048)).isEqualTo(new IndexSpec.IvfPq(624, 512));
        assertThat(IndexType.IVFPQ.spec(24_335, 2048)).isEqualTo(new IndexSpec.Sq8());
        assertThat(IndexType.IVFPQ.spec(10, 2048)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.IVFPQ.spec(100_000, 64)).isEqualTo(new IndexSpec.IvfPq(1265, 16));
    }

    @Test
    void pq_bytes_divide_the_dimension() {
        assertThat(IndexType.pqBytes(2048)).isEqualTo(512);
        assertThat(IndexType.pqBytes(512)).isEqualTo(128);
        assertThat(IndexType.pqBytes(64)).isEqualTo(16);
        assertThat(IndexType.pqBytes(100)).isEqualTo(25);
        assertThat(IndexType.pqBytes(90)).isEqualTo(18); // 22 does not divide 90
        assertThat(IndexType.pqBytes(97)).isEqualTo(1); // a prime: one sub-quantizer
        assertThat(IndexType.pqBytes(3)).isEqualTo(1);
        for (int d = 1; d <= 4096; d++) {
            assertThat(d % IndexType.pqBytes(d)).as("dimension %d", d).isZero();
        }
    }

    @Test
    void flat_and_hnsw_do_not_depend_on_the_vector_count() {
        assertThat(IndexType.FLATL2.spec(10, 64).factoryDescription()).isEqualTo("IDMap2,Flat");
        assertThat(IndexType.HNSW.spec(10_000_000, 64).factoryDescription()).isEqualTo("IDMap2,HNSW32,Flat");
    }

    @Test
    void a_negative_count_or_a_dimension_below_one_is_refused() {
        assertThatThrownBy(() -> IndexType.AUTO.spec(-1, 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> IndexType.AUTO.spec(10, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(IndexType.class)
    void every_description_builds_a_faiss_index_that_keeps_ids(IndexType type) {
        // AUTO needs its threshold's worth to build IVF; 30,000 are enough for the others' IVF lists.
        int n = type == IndexType.AUTO ? (int) IndexType.AUTO_APPROXIMATE_FROM : 30_000;
        float[] vectors = TestVectors.randomUnitVectors(n, 8, 1);
        long[] ids = TestVectors.distinctIds(n, 2);
        IndexSpec spec = type.spec(n, 8);
        try (FaissIndex index = FaissIndex.create(8, spec.factoryDescription(), Metric.INNER_PRODUCT)) {
            if (!index.isTrained()) {
                index.train(vectors);
            }
            index.addWithIds(vectors, ids);

            assertThat(index.ntotal()).isEqualTo(n);
            float[] back = index.reconstruct(ids[123]);
            float[] added = TestVectors.row(vectors, 8, 123);
            if (spec.storesVectorsExactly()) {
                assertThat(back).containsExactly(added);
            } else {
                assertThat(TestVectors.dot(back, added)).as("the decoded vector is close").isGreaterThan(0.8);
            }
        }
    }
}
