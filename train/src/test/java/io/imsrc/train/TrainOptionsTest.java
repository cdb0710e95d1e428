package io.imsrc.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrainOptionsTest {

    @Test
    void the_defaults_are_the_shipped_models_settings() {
        TrainOptions defaults = TrainOptions.defaults();
        assertThat(defaults.architecture().depth()).isEqualTo(20);
        assertThat(defaults.architecture().scale()).isEqualTo(16f);
        assertThat(defaults.margin()).isEqualTo(0.2f);
        assertThat(defaults.batchSize()).isEqualTo(128);
        assertThat(defaults.learningRate()).isEqualTo(0.1f);
        assertThat(defaults.seed()).isEqualTo(42);
    }

    @Test
    void settings_that_cannot_train_are_refused_with_what_is_accepted() {
        assertThatThrownBy(() -> TrainOptions.builder().name("djl").build()).hasMessageContaining("model zoo");
        assertThatThrownBy(() -> TrainOptions.builder().name("a/b").build()).hasMessageContaining("letters, digits");
        assertThatThrownBy(() -> TrainOptions.builder().epochs(0).build()).hasMessageContaining("epochs");
        assertThatThrownBy(() -> TrainOptions.builder().margin(1f).build()).hasMessageContaining("margin");
        assertThatThrownBy(() -> TrainOptions.builder().library(false).build()).hasMessageContaining("no training images");
        assertThatThrownBy(() -> TrainOptions.builder().holdoutFraction(0).build()).hasMessageContaining("held-out");
        assertThat(TrainOptions.builder().library(false).sources(List.of("x")).holdoutSources(List.of("y"))
                .holdoutFraction(0).build().sources()).containsExactly("x");
    }
}
