package io.imsrc.common.record;

import java.time.Instant;
import java.util.Objects;

/**
 * One upload as the query server publishes it to Kafka (topic KAFKA_UPLOADS_TOPIC, key = the image
 * id) and the ingest job reads it; {@link UploadRecordCodec} is the one serializer both use.
 *
 * <p>The image bytes are shared, not copied: treat them as read-only.
 *
 * @param imageId the image id of {@code image} ({@link ImageId#of}), computed by the query server
 *     when it received the bytes; the job checks it against the bytes
 * @param image the bytes as uploaded, not decoded or re-encoded
 * @param originalName the file name the client gave, or {@code null}
 * @param contentType the content type the client declared, or {@code null}; informational only,
 *     the format is always sniffed from the bytes
 * @param category the category the uploader chose, or {@code null} to let the model predict one
 * @param receivedAt when the query server received the upload
 */
public record UploadRecord(
        long imageId, byte[] image, String originalName, String contentType, String category, Instant receivedAt) {

    public UploadRecord {
        if (imageId <= 0) {
            throw new IllegalArgumentException("image ids are positive, got " + imageId);
        }
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(receivedAt, "receivedAt");
    }

    /** An upload whose id is computed from its bytes. */
    public static UploadRecord of(
            byte[] image, String originalName, String contentType, String category, Instant receivedAt) {
        return new UploadRecord(ImageId.of(image), image, originalName, contentType, category, receivedAt);
    }
}
