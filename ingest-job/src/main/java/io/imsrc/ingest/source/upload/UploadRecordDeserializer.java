package io.imsrc.ingest.source.upload;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.MalformedRecordException;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.RawImage;
import java.util.OptionalLong;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns a Kafka record of the uploads topic into a {@link RawImage}, and never throws: a record
 * that is not an upload record, an image over the size limit or bytes whose hash is not the id the
 * record claims become rejected images (dead letters), so one bad record cannot stop the job.
 *
 * <p>The hash computed here is the one the job stores; the id the query server computed is only
 * checked against it.
 */
public final class UploadRecordDeserializer implements KafkaRecordDeserializationSchema<RawImage> {

    private static final long serialVersionUID = 1L;

    private final long maxImageBytes;

    /** @param maxImageBytes larger uploads are refused as TOO_LARGE (MAX_UPLOAD_SIZE) */
    public UploadRecordDeserializer(long maxImageBytes) {
        this.maxImageBytes = maxImageBytes;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawImage> out) {
        out.collect(toRawImage(record.key(), record.value(), record.topic() + "-" + record.partition() + "@" + record.offset(),
                System.currentTimeMillis()));
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

    @Override
    public TypeInformation<RawImage> getProducedType() {
        return TypeInformation.of(RawImage.class);
    }
}
