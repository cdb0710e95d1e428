package io.imsrc.ingest.record;

import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.SourceKind;
import java.util.Objects;

/**
 * What identifies an image and where it came from, carried unchanged from the source to the
 * sinks.
 *
 * @param imageId the image id (docs/design.md, "Image id"), or 0 when the source could not read the
 *     bytes (a record it rejects itself, such as an oversized file or a malformed upload record)
 * @param sha256 the SHA-256 of the original bytes; {@code null} when the source refused the record
 *     unread, whose id (if not 0) is then only the one an upload record claims
 * @param source where the image came from
 * @param recordKey what identifies the record within its source, stable across replays and
 *     re-ingests: {@code location#path} for folders and archives, {@code location#member#index} for
 *     CIFAR records, the image id for uploads (the dead-letter table is unique per source, key and
 *     reason, so a replay adds no second row)
 * @param originalName the file's path within its folder or archive, or the upload's file name;
 *     may be {@code null} for uploads
 * @param contentType the content type an upload declared, else {@code null}
 * @param receivedAtMillis when the image was read or uploaded, in milliseconds since the epoch
 */
public record ImageMeta(
        long imageId,
        byte[] sha256,
        SourceKind source,
        String recordKey,
        String originalName,
        String contentType,
        long receivedAtMillis) {

    public ImageMeta {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(recordKey, "recordKey");
        if (imageId < 0 || (imageId == 0 && sha256 != null)) {
            throw new IllegalArgumentException("an image id (" + imageId + ") is positive, and 0 only without a hash");
        }
        if (sha256 != null && sha256.length != ImageId.HASH_BYTES) {
            throw new IllegalArgumentException("a SHA-256 has 32 bytes, got " + sha256.length);
        }
    }

    public boolean hasId() {
        return imageId > 0;
    }

    public boolean isUpload() {
        return source == SourceKind.UPLOAD;
    }
}
