package io.imsrc.common.record;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * The image id (docs/design.md, "Image id"): a positive 63-bit long taken from the first 8 bytes of
 * the SHA-256 of the image's original bytes (the file or upload as received; for a CIFAR binary
 * record, its 3,072 pixel bytes). Whoever first sees the bytes computes it (the query server for
 * uploads, the job for bulk sources), so a replay or a re-ingest lands on the same row. The full
 * hash is stored beside it and is unique, so two images that share an id are detected, never
 * merged.
 *
 * <p>Pure functions, thread-safe.
 */
public final class ImageId {

    /** Bytes in a SHA-256 digest: the images table's content_hash. */
    public static final int HASH_BYTES = 32;

    private ImageId() {}

    /** The SHA-256 of {@code bytes}. */
    public static byte[] sha256(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return newDigest().digest(bytes);
    }

    /** The SHA-256 of {@code length} bytes of {@code bytes} from {@code offset}. */
    public static byte[] sha256(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        MessageDigest digest = newDigest();
        digest.update(bytes, offset, length);
        return digest.digest();
    }

    /**
     * The id a SHA-256 digest names: its first 8 bytes big-endian with the sign bit cleared. The one
     * digest in 2^63 whose id would be 0 maps to 1, since ids are positive.
     */
    public static long fromSha256(byte[] sha256) {
        Objects.requireNonNull(sha256, "sha256");
        if (sha256.length != HASH_BYTES) {
            throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, got " + sha256.length);
        }
        long id = 0;
        for (int i = 0; i < 8; i++) {
            id = id << 8 | (sha256[i] & 0xFF);
        }
        id &= Long.MAX_VALUE;
        return id == 0 ? 1 : id;
    }

    /** The id of {@code bytes}: {@code fromSha256(sha256(bytes))}. */
    public static long of(byte[] bytes) {
        return fromSha256(sha256(bytes));
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java runtime has SHA-256", e);
        }
    }
}
