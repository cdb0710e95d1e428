package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EmbedderOptionsTest {

    @Test
    void defaults_use_the_benchmarked_batch_size_and_leave_threads_to_pytorch() {
        EmbedderOptions defaults = EmbedderOptions.defaults();

        assertThat(defaults.device()).isEqualTo(Device.AUTO);
        assertThat(defaults.batchSize()).isEqualTo(EmbedderOptions.DEFAULT_BATCH_SIZE);
        assertThat(defaults.intraOpThreads()).isZero();
        assertThat(defaults.interOpThreads()).isZero();
    }

    @Test
    void the_builder_copies_an_existing_value_and_changes_only_what_it_is_told() {
        EmbedderOptions options = EmbedderOptions.builder().device(Device.CPU).batchSize(8).intraOpThreads(1).build();

        EmbedderOptions changed = options.toBuilder().batchSize(16).build();

        assertThat(changed).isEqualTo(EmbedderOptions.builder().device(Device.CPU).batchSize(16).intraOpThreads(1).build());
    }

    @Test
    void out_of_range_values_are_refused_with_a_message_naming_them() {
        assertThatThrownBy(() -> EmbedderOptions.builder().batchSize(0).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batch size");
        assertThatThrownBy(() -> EmbedderOptions.builder().intraOpThreads(-1).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("intra-op");
        assertThatThrownBy(() -> EmbedderOptions.builder().device(null).build()).isInstanceOf(NullPointerException.class);
    }
}
