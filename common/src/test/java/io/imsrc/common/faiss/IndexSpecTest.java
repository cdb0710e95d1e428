package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IndexSpecTest {

    @Test
    void each_spec_reads_back_from_the_description_it_writes() {
        for (IndexSpec spec : new IndexSpec[] {new IndexSpec.Flat(), new IndexSpec.Ivf(980), new IndexSpec.Hnsw(32)}) {
            assertThat(IndexSpec.parse(spec.factoryDescription())).isEqualTo(spec);
        }
    }

    @Test
    void the_types_choose_their_specs_by_size() {
        assertThat(IndexType.FLATL2.spec(10)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.IVFFLAT.spec(60_000)).isEqualTo(new IndexSpec.Ivf(980));
        assertThat(IndexType.IVFFLAT.spec(100)).isEqualTo(new IndexSpec.Flat());
        assertThat(IndexType.HNSW.spec(10)).isEqualTo(new IndexSpec.Hnsw(32));
    }

    @Test
    void a_description_imsrc_does_not_write_is_refused() {
        for (String description : new String[] {"IDMap2,IVF100,Flat", "IVF0,Flat", "PQ8", "IVF12,Bogus", ""}) {
            assertThatThrownBy(() -> IndexSpec.parse(description)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
