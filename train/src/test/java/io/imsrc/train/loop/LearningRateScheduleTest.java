package io.imsrc.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {

    @Test
    void warms_up_linearly_to_the_peak_then_decays_to_zero_along_a_cosine() {
        LearningRateSchedule schedule = new LearningRateSchedule(0.1f, 10, 110);
        assertThat(schedule.at(0)).isCloseTo(0.01f, within(1e-7f));
        assertThat(schedule.at(4)).isCloseTo(0.05f, within(1e-7f));
        assertThat(schedule.at(9)).isCloseTo(0.1f, within(1e-7f));
        assertThat(schedule.at(10)).isCloseTo(0.1f, within(1e-7f));
        assertThat(schedule.at(60)).isCloseTo(0.05f, within(1e-6f));
        assertThat(schedule.at(110)).isCloseTo(0f, within(1e-7f));
        for (long step = 11; step < 110; step++) {
            assertThat(schedule.at(step)).isLessThan(schedule.at(step - 1));
        }
    }

    @Test
    void without_warm_up_it_starts_at_the_peak() {
        assertThat(new LearningRateSchedule(0.2f, 0, 50).at(0)).isCloseTo(0.2f, within(1e-7f));
    }

    @Test
    void a_warm_up_as_long_as_the_run_is_refused() {
        assertThatThrownBy(() -> new LearningRateSchedule(0.1f, 10, 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
