package io.imsrc.ingest.source.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BulkSourceSpecTest {

    @Test
    void a_hash_separates_the_location_from_the_root() {
        BulkSourceSpec spec = BulkSourceSpec.parse("../shared/datasets/cifar-10-jpg.tar.gz#cifar-10-jpg/train");
        assertThat(spec.location()).isEqualTo("../shared/datasets/cifar-10-jpg.tar.gz");
        assertThat(spec.root()).isEqualTo("cifar-10-jpg/train");
        assertThat(BulkSourceSpec.parse("https://host/cifar-10-binary.tar.gz#train").location())
                .isEqualTo("https://host/cifar-10-binary.tar.gz");
        assertThat(BulkSourceSpec.parse("/data/photos").root()).isEmpty();
    }

    @Test
    void roots_are_normalised_and_must_stay_inside() {
        assertThat(BulkSourceSpec.parse("a.tar#/x/y/").root()).isEqualTo("x/y");
        assertThat(BulkSourceSpec.parse("a.tar#./x").root()).isEqualTo("x");
        assertThat(BulkSourceSpec.parse("a.tar#.").root()).isEmpty();
        assertThatThrownBy(() -> BulkSourceSpec.parse("a.tar#x/../../etc")).hasMessageContaining("inside");
    }

    @Test
    void a_watched_folder_has_no_limit_and_limits_are_positive() {
        assertThatThrownBy(() -> BulkSourceSpec.parse("/in").withLimit(5).watching()).hasMessageContaining("limit");
        assertThatThrownBy(() -> BulkSourceSpec.parse("/in").withLimit(-1)).hasMessageContaining("limit");
        assertThatThrownBy(() -> BulkSourceSpec.parse("#root")).hasMessageContaining("blank");
    }
}
