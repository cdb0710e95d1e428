package io.imsrc.common.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UploadRecordCodecTest {

    private static byte[] image(int size) {
        byte[] bytes = new byte[size];
        new Random(7).nextBytes(bytes);
        return bytes;
    }

    @Test
    void a_record_survives_the_round_trip() throws Exception {
        UploadRecord record = UploadRecord.of(image(5000), "chat noir.jpg", "image/jpeg", "cat",
                Instant.parse("2026-11-24T10:15:30.123Z"));

        UploadRecord back = UploadRecordCodec.decode(UploadRecordCodec.encode(record));

        assertThat(back.imageId()).isEqualTo(record.imageId());
        assertThat(back.image()).isEqualTo(record.image());
        assertThat(back.originalName()).isEqualTo("chat noir.jpg");
        assertThat(back.contentType()).isEqualTo("image/jpeg");
        assertThat(back.category()).isEqualTo("cat");
        assertThat(back.receivedAt()).isEqualTo(record.receivedAt());
    }

    @Test
    void absent_texts_stay_absent_and_non_ascii_text_survives() throws Exception {
        UploadRecord record = UploadRecord.of(image(10), null, null, null, Instant.EPOCH);
        UploadRecord back = UploadRecordCodec.decode(UploadRecordCodec.encode(record));
        assertThat(back.originalName()).isNull();
        assertThat(back.contentType()).isNull();
        assertThat(back.category()).isNull();

        UploadRecord named = UploadRecord.of(image(10), "Käfer 🐞.png", null, "Käfer", Instant.EPOCH);
        assertThat(UploadRecordCodec.decode(UploadRecordCodec.encode(named)).originalName()).isEqualTo("Käfer 🐞.png");
    }

    @Test
    void the_overhead_is_small_and_bounded() {
        UploadRecord record = UploadRecord.of(image(1000), "a.jpg", "image/jpeg", null, Instant.EPOCH);
        byte[] encoded = UploadRecordCodec.encode(record);
        assertThat(encoded.length - 1000).isEqualTo(UploadRecordCodec.overhead(record)).isLessThan(64);
        assertThat(UploadRecordCodec.maxRecordBytes(1000)).isGreaterThanOrEqualTo(encoded.length);
    }

    @Test
    void the_key_is_the_decimal_id() {
        assertThat(new String(UploadRecordCodec.key(1234567890123L), StandardCharsets.US_ASCII)).isEqualTo("1234567890123");
        assertThat(UploadRecordCodec.parseKey(UploadRecordCodec.key(42))).isEqualTo(OptionalLong.of(42));
        assertThat(UploadRecordCodec.parseKey("x".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(UploadRecordCodec.parseKey("-5".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(UploadRecordCodec.parseKey(null)).isEmpty();
    }

    @Test
    void bytes_that_are_not_a_record_are_refused_with_a_reason() {
        assertThatThrownBy(() -> UploadRecordCodec.decode(null)).hasMessageContaining("no value");
        assertThatThrownBy(() -> UploadRecordCodec.decode("hello, kafka".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(MalformedRecordException.class).hasMessageContaining("magic");

        byte[] good = UploadRecordCodec.encode(UploadRecord.of(image(100), "a.jpg", null, null, Instant.EPOCH));
        byte[] future = good.clone();
        future[4] = 9;
        assertThatThrownBy(() -> UploadRecordCodec.decode(future)).hasMessageContaining("version 9");
        assertThatThrownBy(() -> UploadRecordCodec.decode(Arrays.copyOf(good, good.length - 1)))
                .isInstanceOf(MalformedRecordException.class);
        assertThatThrownBy(() -> UploadRecordCodec.decode(Arrays.copyOf(good, 12)))
                .isInstanceOf(MalformedRecordException.class).hasMessageContaining("ends early");
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        assertThatThrownBy(() -> UploadRecordCodec.decode(longer)).hasMessageContaining("announces 100 image bytes");
    }

    @Test
    void texts_longer_than_the_limit_are_refused_on_encode() {
        String longName = "n".repeat(UploadRecordCodec.MAX_TEXT_BYTES + 1);
        UploadRecord record = UploadRecord.of(image(10), longName, null, null, Instant.EPOCH);
        assertThatThrownBy(() -> UploadRecordCodec.encode(record)).isInstanceOf(IllegalArgumentException.class);
    }
}
