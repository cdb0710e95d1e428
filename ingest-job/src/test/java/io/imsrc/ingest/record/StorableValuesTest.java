package io.imsrc.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class StorableValuesTest {

    @Test
    void nul_characters_become_the_replacement_character_and_nothing_else_changes() {
        assertThat(StorableValues.text("a\0b\0")).isEqualTo("a\uFFFDb\uFFFD");
        assertThat(StorableValues.text("plain\n\u00e9\uD83D\uDE00")).isEqualTo("plain\n\u00e9\uD83D\uDE00");
        assertThat(StorableValues.text(null)).isNull();
        assertThat(StorableValues.hasNul("a\0")).isTrue();
        assertThat(StorableValues.hasNul("a")).isFalse();
        assertThat(StorableValues.hasNul(null)).isFalse();
    }

    @Test
    void long_texts_are_cut_with_an_ellipsis_and_never_inside_a_surrogate_pair() {
        assertThat(StorableValues.text("abcdefgh", 8)).isEqualTo("abcdefgh");
        assertThat(StorableValues.text("abcdefghi", 8)).isEqualTo("abcde...");
        // The fifth character is the high half of an emoji: the cut goes before the pair.
        String emoji = "abcd\uD83D\uDE00xy";
        assertThat(StorableValues.text(emoji, 8)).isEqualTo("abcd\uD83D\uDE00xy");
        assertThat(StorableValues.text(emoji + "!", 8)).isEqualTo("abcd...");
    }

    @Test
    void times_from_1970_to_the_end_of_9999_are_storable_and_others_are_clamped() {
        assertThat(StorableValues.LATEST_MILLIS).isEqualTo(Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli());
        assertThat(StorableValues.storableMillis(0)).isTrue();
        assertThat(StorableValues.storableMillis(StorableValues.LATEST_MILLIS)).isTrue();
        assertThat(StorableValues.storableMillis(-1)).isFalse();
        assertThat(StorableValues.storableMillis(StorableValues.LATEST_MILLIS + 1)).isFalse();
        assertThat(StorableValues.clampMillis(Long.MIN_VALUE)).isEqualTo(0);
        assertThat(StorableValues.clampMillis(Long.MAX_VALUE)).isEqualTo(StorableValues.LATEST_MILLIS);
        assertThat(StorableValues.clampMillis(1_700_000_000_000L)).isEqualTo(1_700_000_000_000L);
    }
}
