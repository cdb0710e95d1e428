package io.imsrc.ingest.record;

import io.imsrc.common.record.Rejection;
import java.util.Objects;

/**
 * An image as a source read it, before admission: its bytes as they arrived, the label the source
 * gave it, or the reason the source already refused it.
 *
 * @param meta identity and provenance
 * @param label the category the source names (the folder above the file, the CIFAR label, the
 *     uploader's choice), or {@code null} to let the model predict one
 * @param bytes the original bytes: a file, an upload, or a CIFAR record's 3,072 pixel bytes (see
 *     {@code encoding}); {@code null} when {@code rejection} is set
 * @param encoding how to read {@code bytes}
 * @param rejection why the source refused the record before reading it, or {@code null}
 * @param rejectionDetail a sentence for a person, with {@code rejection}
 */
public record RawImage(
        ImageMeta meta, String label, byte[] bytes, Encoding encoding, Rejection rejection, String rejectionDetail) {

    /** How the bytes of a {@link RawImage} hold the image. */
    public enum Encoding {
        /** An image file (JPEG, PNG, BMP, GIF), sniffed and decoded. */
        FILE,
        /** CIFAR-10's binary layout: 1,024 red, 1,024 green, 1,024 blue bytes of a 32x32 image. */
        CIFAR_PIXELS
    }

    public RawImage {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(encoding, "encoding");
        if ((bytes == null) == (rejection == null)) {
            throw new IllegalArgumentException("a raw image has either bytes or a rejection");
        }
    }

    public static RawImage of(ImageMeta meta, String label, byte[] bytes, Encoding encoding) {
        if (!meta.hasId() || meta.sha256() == null) {
            throw new IllegalArgumentException("an image to admit has its id and hash");
        }
        return new RawImage(meta, label, Objects.requireNonNull(bytes, "bytes"), encoding, null, null);
    }

    /** A record the source refused before its bytes could be read or trusted. */
    public static RawImage rejected(ImageMeta meta, Rejection rejection, String detail) {
        return new RawImage(meta, null, null, Encoding.FILE, Objects.requireNonNull(rejection, "rejection"), detail);
    }
}
