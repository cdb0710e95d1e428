package io.imsrc.common.image;

import java.util.Objects;

/**
 * Bytes that are not an image imsrc can use, with a machine-readable {@link Reason} (for HTTP
 * status codes, dead letters and the uploads table) and a message for a person.
 *
 * <p>Checked on purpose: every caller of the decoder must decide what a bad image means for it
 * (a 415 response, a dead letter, an error line in the CLI), and nothing should crash a job.
 */
public final class InvalidImageException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why the bytes were rejected. The names are stored and returned over HTTP; keep them stable. */
    public enum Reason {
        /** No bytes at all. */
        EMPTY,
        /** The bytes start with no image signature imsrc knows (a text file, a PDF, ...). */
        NOT_AN_IMAGE,
        /** A known image format that imsrc does not decode (TIFF, WebP, HEIF, ...). */
        UNSUPPORTED_FORMAT,
        /** The file ends before the image data does. */
        TRUNCATED,
        /** The header announces more pixels than the configured limit allows. */
        TOO_MANY_PIXELS,
        /** The signature is right but the content cannot be decoded. */
        CORRUPT
    }

    private final Reason reason;

    public InvalidImageException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public InvalidImageException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
