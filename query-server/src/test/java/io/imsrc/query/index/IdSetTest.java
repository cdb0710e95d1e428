package io.imsrc.query.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdSetTest {

    @Test
    void holds_exactly_what_a_hash_set_holds_through_many_growths() {
        IdSet ids = new IdSet(0);
        Set<Long> oracle = new HashSet<>();
        Random random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            // Small ids collide often (re-adds); large ones are spread like image ids.
            long id = i % 3 == 0 ? 1 + random.nextInt(50_000) : 1 + (random.nextLong() & (Long.MAX_VALUE - 1));
            assertThat(ids.add(id)).isEqualTo(oracle.add(id));
        }
        assertThat(ids.size()).isEqualTo(oracle.size());
        for (long id : oracle) {
            assertThat(ids.contains(id)).isTrue();
        }
        for (int i = 0; i < 10_000; i++) {
            long probe = 1 + (random.nextLong() & (Long.MAX_VALUE - 1));
            assertThat(ids.contains(probe)).isEqualTo(oracle.contains(probe));
        }
        Set<Long> listed = new HashSet<>();
        for (long id : ids.toArray()) {
            listed.add(id);
        }
        assertThat(listed).isEqualTo(oracle);
    }

    @Test
    void ids_that_share_low_bits_do_not_pile_up_into_one_run() {
        IdSet ids = new IdSet(16);
        for (long i = 1; i <= 50_000; i++) {
            assertThat(ids.add(i << 32)).isTrue();
        }
        assertThat(ids.contains(7L << 32)).isTrue();
        assertThat(ids.contains((7L << 32) + 1)).isFalse();
        assertThat(ids.size()).isEqualTo(50_000);
    }

    @Test
    void image_ids_are_positive() {
        IdSet ids = new IdSet(4);
        assertThatThrownBy(() -> ids.add(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ids.add(-5)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ids.contains(0)).isFalse();
        assertThat(ids.contains(-5)).isFalse();
    }
}
