package io.imsrc.ingest.source.upload;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.ingest.record.RawImage;
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

    @Test
    void bytes_that_do_not_match_the_claimed_id_or_exceed_the_limit_are_rejected() {
        UploadRecord lying = new UploadRecord(ImageId.of(IMAGE) + 1, IMAGE, "x.jpg", null, null, Instant.EPOCH);
        assertThat(DESERIALIZER.toRawImage(null, UploadRecordCodec.encode(lying), "p", 0).rejection())
                .isEqualTo(Rejection.ID_MISMATCH);

        UploadRecord big = UploadRecord.of(new byte[1001], "big.png", null, null, Instant.EPOCH);
        RawImage raw = DESERIALIZER.toRawImage(null, UploadRecordCodec.encode(big), "p", 0);
        assertThat(raw.rejection()).isEqualTo(Rejection.TOO_LARGE);
        assertThat(raw.meta().imageId()).isEqualTo(big.imageId());
    }
}
