package io.imsrc.common.record;

import io.imsrc.common.image.InvalidImageException;

/**
 * Why imsrc refused an image: the reason code stored in dead_letters.reason and uploads.reason,
 * and returned over HTTP. The names are an interface to users and scripts; keep them stable.
 */
public enum Rejection {
    /** No bytes at all. */
    EMPTY,
    /** The bytes start with no image signature imsrc knows. */
    NOT_AN_IMAGE,
    /** A known image format imsrc does not decode (TIFF, WebP, HEIF, ...). */
    UNSUPPORTED_FORMAT,
    /** The file ends before its image data does. */
    TRUNCATED,
    /** The header announces more pixels than MAX_IMAGE_PIXELS. */
    TOO_MANY_PIXELS,
    /** The signature is right but the content cannot be decoded. */
    CORRUPT,
    /** The file is larger than MAX_UPLOAD_SIZE. */
    TOO_LARGE,
    /** A Kafka record that is not an upload record of a version this build reads. */
    MALFORMED_RECORD,
    /**
     * An upload record that decodes but cannot be stored as it is: its key is not its image id, its
     * received-at time is out of range, or a text holds a NUL character.
     */
    INVALID_RECORD,
    /** An upload record whose image id is not the id of its bytes. */
    ID_MISMATCH,
    /** The image id is already stored for other bytes (a SHA-256 prefix collision, or tampering). */
    HASH_COLLISION,
    /** The category name is empty, too long or holds control characters. */
    INVALID_CATEGORY,
    /** The image has no label and the model has no classifier to predict one. */
    NO_CATEGORY,
    /** The file could not be read (it vanished, or permissions). */
    UNREADABLE,
    /**
     * An upload the query server recorded but whose publication to Kafka never completed (it
     * stopped between the two): given up after UPLOAD_PUBLISH_DEADLINE_MS.
     */
    NOT_PUBLISHED,
    /**
     * An upload Kafka took that the ingest job had not stored after UPLOAD_INGEST_DEADLINE_MS (the
     * job was down, or the record left the topic first).
     */
    NOT_INGESTED;

    /** The rejection for an image the decoder refused. */
    public static Rejection of(InvalidImageException.Reason reason) {
        return switch (reason) {
            case EMPTY -> EMPTY;
            case NOT_AN_IMAGE -> NOT_AN_IMAGE;
            case UNSUPPORTED_FORMAT -> UNSUPPORTED_FORMAT;
            case TRUNCATED -> TRUNCATED;
            case TOO_MANY_PIXELS -> TOO_MANY_PIXELS;
            case CORRUPT -> CORRUPT;
        };
    }
}
