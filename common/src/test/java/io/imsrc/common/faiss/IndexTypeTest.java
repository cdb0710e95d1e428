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
    @CsvSource(value = {"flatl2|FLATL2", "IVFFlat|IVFFLAT", " HNSW |HNSW"}, delimiter = '|',
            ignoreLeadingAndTrailingWhitespace = false)
    void config_values_parse_ignoring_case_and_blanks(String value, IndexType type) {
        assertThat(IndexType.parse(value)).isEqualTo(type);
    }

    @Test
    void an_unknown_value_is_rejected_with_the_accepted_values() {
        assertThatThrownBy(() -> IndexType.parse("ivfpq"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'ivfpq'")
                .hasMessageContaining("flatl2, ivfflat, hnsw");
        assertThatThrownBy(() -> IndexType.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ivf_uses_four_sqrt_n_lists_and_falls_back_to_flat_below_39_vectors_per_list() {
        assertThat(IndexType.IVFFLAT.spec(60_000).factoryDescription()).isEqualTo("IVF980,Flat");
        assertThat(IndexType.IVFFLAT.spec(1_000_000).factoryDescription()).isEqualTo("IVF4000,Flat");
        // 4 sqrt(24,336) = 624 lists need 24,336 vectors; one fewer is too few to train.
        assertThat(IndexType.IVFFLAT.spec(24_336).factoryDescription()).isEqualTo("IVF624,Flat");
        assertThat(IndexType.IVFFLAT.spec(24_335).factoryDescription()).isEqualTo("IDMap2,Flat");
        assertThat(IndexType.IVFFLAT.spec(0).factoryDescription()).isEqualTo("IDMap2,Flat");
    }

    @Test
    void flat_and_hnsw_do_not_depend_on_the_vector_count() {
        assertThat(IndexType.FLATL2.spec(10).factoryDescription()).isEqualTo("IDMap2,Flat");
        assertThat(IndexType.HNSW.spec(10_000_000).factoryDescription()).isEqualTo("IDMap2,HNSW32,Flat");
    }

    @ParameterizedTest
    @EnumSource(IndexType.class)
    void every_description_builds_a_faiss_index_that_keeps_ids(IndexType type) {
        float[] vectors = TestVectors.randomUnitVectors(30_000, 8, 1);
        long[] ids = TestVectors.distinctIds(30_000, 2);
        try (FaissIndex index = FaissIndex.create(8, type.spec(30_000).factoryDescription(), Metric.INNER_PRODUCT)) {
            if (!index.isTrained()) {
                index.train(vectors);
            }
            index.addWithIds(vectors, ids);

            assertThat(index.ntotal()).isEqualTo(30_000);
            assertThat(index.reconstruct(ids[123])).containsExactly(TestVectors.row(vectors, 8, 123));
        }
    }
}
