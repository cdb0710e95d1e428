package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeviceTest {

    @ParameterizedTest
    @CsvSource(value = {"auto|AUTO", "CPU|CPU", " cuda |CUDA"}, delimiter = '|', ignoreLeadingAndTrailingWhitespace = false)
    void the_three_setting_values_parse_in_any_case(String value, Device device) {
        assertThat(Device.parse(value)).isEqualTo(device);
    }

    @Test
    void an_unknown_device_is_refused_with_the_accepted_values() {
        assertThatThrownBy(() -> Device.parse("tpu"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tpu")
                .hasMessageContaining("auto, cpu or cuda");
        assertThatThrownBy(() -> Device.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void auto_takes_a_gpu_only_when_the_engine_sees_one() throws Exception {
        assertThat(Device.AUTO.toDjl(0)).isEqualTo(ai.djl.Device.cpu());
        assertThat(Device.AUTO.toDjl(2)).isEqualTo(ai.djl.Device.gpu());
        assertThat(Device.CPU.toDjl(2)).isEqualTo(ai.djl.Device.cpu());
    }

    @Test
    void cuda_without_a_gpu_fails_instead_of_falling_back_silently() {
        assertThatThrownBy(() -> Device.CUDA.toDjl(0))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("no GPU");
    }
}
