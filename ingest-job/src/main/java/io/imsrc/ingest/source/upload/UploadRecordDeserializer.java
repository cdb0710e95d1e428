package io.imsrc.ingest.source.upload;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.MalformedRecordException;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.record.StorableValues;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a Kafka record of the uploads topic into a {@link RawImage}, and never throws. Records are
 * untrusted bytes (anyone who can write to the topic writes them), so every way a record could fail
 * a statement further on is refused here, as a rejected image (a dead letter) with its reason; a
 * failed statement would fail the job, and the replay after the restart would fail it again.
 *
 * <ul>
 *   <li>MALFORMED_RECORD: not an upload record of a version this build reads (no value, wrong magic,
 *       unknown version, lengths that do not add up, a text of more than {@value
 *       UploadRecordCodec#MAX_TEXT_BYTES} bytes or not UTF-8, an id that is not positive);
 *   <li>INVALID_RECORD: a record that decodes but cannot be stored as it is: a key that is not its
 *       image id, a received-at time outside {@link StorableValues}' range, a NUL character in the
 *       original name or content type;
 *   <li>TOO_LARGE: an image over MAX_UPLOAD_SIZE; ID_MISMATCH: bytes whose hash is not the id the
 *       record claims.
 * </ul>
 *
 * <p>The category is checked at admission, like every source's (INVALID_CATEGORY), and the bytes are
 * decoded there.
 *
 * <p>The hash computed here is the one the job stores; the id the query server computed is only
 * checked against it.
 */
public final class UploadRecordDeserializer implements KafkaRecordDeserializationSchema<RawImage> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(UploadRecordDeserializer.class);

    private final long maxImageBytes;

    /** @param maxImageBytes larger uploads are refused as TOO_LARGE (MAX_UPLOAD_SIZE) */
    public UploadRecordDeserializer(long maxImageBytes) {
        this.maxImageBytes = maxImageBytes;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawImage> out) {
        String position = record.topic() + "-" + record.partition() + "@" + record.offset();
        long now = System.currentTimeMillis();
        RawImage raw;
        try {
            raw = toRawImage(record.key(), record.value(), position, now);
        } catch (RuntimeException e) {
            // A defect of this class rather than of the record; the record is refused all the same,
            // since an exception here would fail the job on every replay of it.
            LOG.error("Could not read the upload record at {}", position, e);
            raw = RawImage.rejected(new ImageMeta(0, null, SourceKind.UPLOAD, position, null, null, now),
                    Rejection.MALFORMED_RECORD, "the job could not read the record: " + e);
        }
        out.collect(raw);
    }

    /**
     * The raw image of one record.
     *
     * @param position where the record sits, the dead letter's key when the record is unreadable
     */
    RawImage toRawImage(byte[] key, byte[] value, String position, long now) {
        UploadRecord upload;
        try {
            upload = UploadRecordCodec.decode(value);
        } catch (MalformedRecordException e) {
            OptionalLong claimed = UploadRecordCodec.parseKey(key);
            return RawImage.rejected(new ImageMeta(claimed.orElse(0), null, SourceKind.UPLOAD, position, null, null, now),
                    Rejection.MALFORMED_RECORD, e.getMessage());
        }
        long receivedAt = upload.receivedAt().toEpochMilli();
        String recordKey = Long.toString(upload.imageId());
        Optional<String> invalid = invalidity(key, upload);
        if (invalid.isPresent()) {
            long storedAt = StorableValues.storableMillis(receivedAt) ? receivedAt : now;
            return RawImage.rejected(new ImageMeta(upload.imageId(), null, SourceKind.UPLOAD, recordKey,
                    upload.originalName(), upload.contentType(), storedAt), Rejection.INVALID_RECORD, invalid.get());
        }
        ImageMeta claimed = new ImageMeta(upload.imageId(), null, SourceKind.UPLOAD, recordKey, upload.originalName(),
                upload.contentType(), receivedAt);
        if (upload.image().length > maxImageBytes) {
            return RawImage.rejected(claimed, Rejection.TOO_LARGE,
                    "the upload is " + upload.image().length + " bytes, more than the limit of " + maxImageBytes);
        }
        byte[] sha256 = ImageId.sha256(upload.image());
        long actual = ImageId.fromSha256(sha256);
        if (actual != upload.imageId()) {
            return RawImage.rejected(claimed, Rejection.ID_MISMATCH, "the record claims image id " + upload.imageId()
                    + " but its bytes have id " + actual);
        }
        ImageMeta meta = new ImageMeta(actual, sha256, SourceKind.UPLOAD, recordKey, upload.originalName(),
                upload.contentType(), receivedAt);
        return RawImage.of(meta, upload.category(), upload.image(), RawImage.Encoding.FILE);
    }

    /** Why a decoded record cannot be stored as it is, or empty when it can. */
    static Optional<String> invalidity(byte[] key, UploadRecord upload) {
        OptionalLong keyId = UploadRecordCodec.parseKey(key);
        if (keyId.isEmpty() || keyId.getAsLong() != upload.imageId()) {
            return Optional.of((key == null ? "the record has no key" : "the record's key " + describe(key)
                    + " is not its image id") + "; an upload record's key is its image id " + upload.imageId());
        }
        long receivedAt = upload.receivedAt().toEpochMilli();
        if (!StorableValues.storableMillis(receivedAt)) {
            return Optional.of("the record's received-at time (" + receivedAt + " ms since the epoch) is not between "
                    + Instant.ofEpochMilli(StorableValues.EARLIEST_MILLIS) + " and "
                    + Instant.ofEpochMilli(StorableValues.LATEST_MILLIS));
        }
        if (StorableValues.hasNul(upload.originalName())) {
            return Optional.of("the record's original name holds a NUL character, which PostgreSQL cannot store");
        }
        if (StorableValues.hasNul(upload.contentType())) {
            return Optional.of("the record's content type holds a NUL character, which PostgreSQL cannot store");
        }
        return Optional.empty();
    }

    /** A key as a person can read it: quoted when it is short printable ASCII, else its length. */
    private static String describe(byte[] key) {
        boolean printable = key.length > 0 && key.length <= 40;
        for (byte b : key) {
            printable &= b >= 0x20 && b < 0x7F;
        }
        return printable ? "'" + new String(key, StandardCharsets.US_ASCII) + "'" : "of " + key.length + " bytes";
    }

    @Override
    public TypeInformation<RawImage> getProducedType() {
        return TypeInformation.of(RawImage.class);
    }
}
