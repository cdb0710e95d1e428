package io.imsrc.train.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HeldOutSplitTest {

    @Test
    void holds_out_about_the_fraction_and_the_same_ids_for_the_same_seed() {
        SplittableRandom ids = new SplittableRandom(1);
        int heldOut = 0;
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            long id = ids.nextLong() >>> 1;
            boolean out = HeldOutSplit.isHeldOut(id, 42, 0.1);
            assertThat(HeldOutSplit.isHeldOut(id, 42, 0.1)).isEqualTo(out);
            heldOut += out ? 1 : 0;
        }
        assertThat(heldOut).isBetween(9_500, 10_500);
    }

    @Test
    void another_seed_holds_out_other_images() {
        int differ = 0;
        for (long id = 1; id <= 10_000; id++) {
            if (HeldOutSplit.isHeldOut(id, 1, 0.5) != HeldOutSplit.isHeldOut(id, 2, 0.5)) {
                differ++;
            }
        }
        assertThat(differ).isBetween(4_000, 6_000);
    }

    @Test
    void nothing_is_held_out_at_fraction_zero() {
        for (long id = 1; id <= 1000; id++) {
            assertThat(HeldOutSplit.isHeldOut(id, 42, 0)).isFalse();
        }
    }
}
