package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IndexSpecTest {

    @Test
    void each_spec_reads_back_from_the_description_it_writes() {
        for (IndexSpec spec : new IndexSpec[] {new IndexSpec.Flat(), new IndexSpec.Ivf(980), new IndexSpec.Hnsw(32),
                new IndexSpec.Sq8(), new IndexSpec.IvfPq(2000, 512)}) {
            assertThat(IndexSpec.parse(spec.factoryDescription())).isEqualTo(spec);
        }
    }

    @Test
    void descriptions_in_manifests_written_before_the_compressed_kinds_still_parse() {
        // As IndexFiles wrote them with flatl2, ivfflat and hnsw, when search settings were not specs.
        assertThat(IndexSpec.parse("IDMap2,Flat")).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexSpec.parse("IVF980,Flat")).isEqualTo(new IndexSpec.Ivf(980));
        assertThat(IndexSpec.parse("IDMap2,HNSW32,Flat")).isEqualTo(new IndexSpec.Hnsw(32));
    }

    @Test
    void the_compressed_kinds_have_their_factory_descriptions() {
        assertThat(new IndexSpec.Sq8().factoryDescription()).isEqualTo("IDMap2,SQ8");
        assertThat(new IndexSpec.IvfPq(894, 512).factoryDescription()).isEqualTo("IVF894,PQ512np");
        assertThat(new IndexSpec.Sq8().storesVectorsExactly()).isFalse();
        assertThat(new IndexSpec.IvfPq(894, 512).storesVectorsExactly()).isFalse();
        assertThat(new IndexSpec.Ivf(894).storesVectorsExactly()).isTrue();
    }

    @Test
    void the_types_choose_their_specs_by_size() {
        assertThat(IndexType.FLATL2.spec(10, 64)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.IVFFLAT.spec(60_000, 64)).isEqualTo(new IndexSpec.Ivf(980));
        assertThat(IndexType.IVFFLAT.spec(100, 64)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.HNSW.spec(10, 64)).isEqualTo(new IndexSpec.Hnsw(32));
        assertThat(IndexType.SQ8.spec(60_000, 2048)).isEqualTo(new IndexSpec.Sq8());
        assertThat(IndexType.IVFPQ.spec(60_000, 2048)).isEqualTo(new IndexSpec.IvfPq(980, 512));
    }

    @Test
    void a_description_imsrc_does_not_write_is_refused() {
        for (String description : new String[] {"IDMap2,IVF100,Flat", "IVF0,Flat", "PQ8", "IVF12,Bogus", "",
                "IVF100,PQ0", "SQ8", "IDMap2,SQ4", "IDMap2,IVF100,PQ8"}) {
            assertThatThrownBy(() -> IndexSpec.parse(description)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new IndexSpec.IvfPq(100, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
