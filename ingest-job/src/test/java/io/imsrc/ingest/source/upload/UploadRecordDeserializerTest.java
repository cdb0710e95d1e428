package io.imsrc.ingest.source.upload;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.record.StorableValues;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class UploadRecordDeserializerTest {

    private static final UploadRecordDeserializer DESERIALIZER = new UploadRecordDeserializer(1000);
    private static final byte[] IMAGE = "some image bytes".getBytes(StandardCharsets.US_ASCII);

    @Test
    void an_upload_becomes_a_raw_image_with_its_metadata() {
        UploadRecord upload = UploadRecord.of(IMAGE, "cat.jpg", "image/jpeg", "cat", Instant.ofEpochMilli(1234));

        RawImage raw = DESERIALIZER.toRawImage(UploadRecordCodec.key(upload.imageId()), UploadRecordCodec.encode(upload),
                "t-0@7", 99);

        assertThat(raw.rejection()).isNull();
        assertThat(raw.meta().imageId()).isEqualTo(ImageId.of(IMAGE));
        assertThat(raw.meta().sha256()).isEqualTo(ImageId.sha256(IMAGE));
        assertThat(raw.meta().source()).isEqualTo(SourceKind.UPLOAD);
        assertThat(raw.meta().recordKey()).isEqualTo(Long.toString(upload.imageId()));
        assertThat(raw.meta().originalName()).isEqualTo("cat.jpg");
        assertThat(raw.meta().contentType()).isEqualTo("image/jpeg");
        assertThat(raw.meta().receivedAtMillis()).isEqualTo(1234);
        assertThat(raw.label()).isEqualTo("cat");
        assertThat(raw.bytes()).isEqualTo(IMAGE);
    }

    @Test
    void a_record_that_is_not_an_upload_is_rejected_under_the_id_its_key_claims() {
        RawImage raw = DESERIALIZER.toRawImage(UploadRecordCodec.key(42), "{\"json\": true}".getBytes(StandardCharsets.UTF_8),
                "uploads-3@17", 99);

        assertThat(raw.rejection()).isEqualTo(Rejection.MALFORMED_RECORD);
        assertThat(raw.meta().imageId()).isEqualTo(42);
        assertThat(raw.meta().sha256()).isNull();
        assertThat(raw.meta().recordKey()).isEqualTo("uploads-3@17");
        assertThat(DESERIALIZER.toRawImage(null, null, "uploads-0@1", 0).meta().hasId()).isFalse();
    }

    private static RawImage read(UploadRecord upload) {
        return DESERIALIZER.toRawImage(UploadRecordCodec.key(upload.imageId()), UploadRecordCodec.encode(upload), "p", 99);
    }

    @Test
    void bytes_that_do_not_match_the_claimed_id_or_exceed_the_limit_are_rejected() {
        UploadRecord lying = new UploadRecord(ImageId.of(IMAGE) + 1, IMAGE, "x.jpg", null, null, Instant.EPOCH);
        assertThat(read(lying).rejection()).isEqualTo(Rejection.ID_MISMATCH);

        UploadRecord big = UploadRecord.of(new byte[1001], "big.png", null, null, Instant.EPOCH);
        RawImage raw = read(big);
        assertThat(raw.rejection()).isEqualTo(Rejection.TOO_LARGE);
        assertThat(raw.meta().imageId()).isEqualTo(big.imageId());
    }

    @Test
    void a_record_whose_key_is_missing_or_not_its_image_id_is_invalid() {
        UploadRecord upload = UploadRecord.of(IMAGE, "cat.jpg", "image/jpeg", null, Instant.ofEpochMilli(5));
        byte[] value = UploadRecordCodec.encode(upload);
        for (byte[] key : new byte[][] {null, new byte[0], UploadRecordCodec.key(upload.imageId() + 1),
                "cat".getBytes(StandardCharsets.US_ASCII), new byte[] {0, (byte) 0xFF}}) {
            RawImage raw = DESERIALIZER.toRawImage(key, value, "p", 99);
            assertThat(raw.rejection()).isEqualTo(Rejection.INVALID_RECORD);
            assertThat(raw.rejectionDetail()).contains("image id " + upload.imageId());
            assertThat(raw.meta().imageId()).as("the upload the value names is the one refused").isEqualTo(upload.imageId());
            assertThat(raw.meta().sha256()).isNull();
        }
    }

    @Test
    void a_received_at_time_outside_1970_to_9999_is_invalid_and_the_dead_letter_takes_the_time_of_reading() {
        for (long millis : new long[] {-1, Long.MIN_VALUE, StorableValues.LATEST_MILLIS + 1, Long.MAX_VALUE}) {
            RawImage raw = read(UploadRecord.of(IMAGE, "cat.jpg", null, null, Instant.ofEpochMilli(millis)));
            assertThat(raw.rejection()).as("%d ms", millis).isEqualTo(Rejection.INVALID_RECORD);
            assertThat(raw.rejectionDetail()).contains("received-at");
            assertThat(raw.meta().receivedAtMillis()).isEqualTo(99);
        }
        assertThat(read(UploadRecord.of(IMAGE, "cat.jpg", null, null, Instant.ofEpochMilli(StorableValues.LATEST_MILLIS)))
                .rejection()).isNull();
        assertThat(read(UploadRecord.of(IMAGE, "cat.jpg", null, null, Instant.EPOCH)).rejection()).isNull();
    }

    @Test
    void a_nul_character_in_the_name_or_content_type_is_invalid_and_other_characters_pass() {
        RawImage name = read(UploadRecord.of(IMAGE, "cat\0.jpg", "image/jpeg", null, Instant.EPOCH));
        assertThat(name.rejection()).isEqualTo(Rejection.INVALID_RECORD);
        assertThat(name.rejectionDetail()).contains("original name").contains("NUL");
        assertThat(name.meta().originalName()).isEqualTo("cat\0.jpg");
        RawImage type = read(UploadRecord.of(IMAGE, "cat.jpg", "image/jpeg\0", null, Instant.EPOCH));
        assertThat(type.rejection()).isEqualTo(Rejection.INVALID_RECORD);
        assertThat(type.rejectionDetail()).contains("content type");
        // The category is checked at admission, with every source's (INVALID_CATEGORY).
        assertThat(read(UploadRecord.of(IMAGE, "line\nbreak \u00e9\uD83D\uDE00.jpg", null, "c\0t", Instant.EPOCH))
                .rejection()).isNull();
    }
}
