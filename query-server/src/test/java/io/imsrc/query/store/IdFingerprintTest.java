package io.imsrc.query.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.query.store.VectorStore.IdFingerprint;
import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IdFingerprintTest {

    @Test
    void the_sum_is_exact_past_sixty_four_bits() {
        Random random = new Random(3);
        long[] ids = new long[100_000];
        BigInteger expected = BigInteger.ZERO;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + (random.nextLong() & (Long.MAX_VALUE - 1)); // as large as image ids get
            expected = expected.add(BigInteger.valueOf(ids[i]));
        }
        assertThat(expected.bitLength()).as("the sum overflows a long many times").isGreaterThan(70);

        IdFingerprint fingerprint = IdFingerprint.of(ids);

        assertThat(fingerprint).isEqualTo(new IdFingerprint(100_000, expected));
    }

    @Test
    void the_same_count_with_another_id_differs() {
        assertThat(IdFingerprint.of(new long[] {5, 9})).isEqualTo(new IdFingerprint(2, BigInteger.valueOf(14)));
        assertThat(IdFingerprint.of(new long[] {5, 9})).isNotEqualTo(IdFingerprint.of(new long[] {5, 10}));
        assertThat(IdFingerprint.of(new long[0])).isEqualTo(new IdFingerprint(0, BigInteger.ZERO));
    }
}
