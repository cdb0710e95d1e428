package io.imsrc.query.index;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HoleTrackerTest {

    @Test
    void numbers_skipped_below_what_was_read_are_holes_until_they_appear() {
        HoleTracker tracker = new HoleTracker(1000, 100);

        tracker.read(10, new long[] {11, 14, 15}, 0);
        assertThat(tracker.pending(0)).containsExactly(12, 13);

        tracker.read(15, new long[] {13, 16}, 10);
        assertThat(tracker.pending(10)).containsExactly(12);
    }

    @Test
    void holes_expire_and_wide_gaps_are_not_tracked() {
        HoleTracker tracker = new HoleTracker(1000, 100);
        tracker.read(0, new long[] {1, 3}, 0);
        tracker.read(3, new long[] {500}, 0); // another model's 496 rows in between
        assertThat(tracker.pending(999)).containsExactly(2);
        assertThat(tracker.pending(1001)).isEmpty();
        assertThat(tracker.size()).isZero();
    }
}
