package io.imsrc.common.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * The wire format of {@link UploadRecord}s on Kafka, shared by the query server (which writes) and
 * the ingest job (which reads), so the two cannot drift apart.
 *
 * <p>Key: the image id in decimal ASCII, so that tools such as kafka-console-consumer show it and
 * every upload of the same bytes lands in the same partition.
 *
 * <p>Value, version 1, big-endian:
 *
 * <pre>
 * magic        4 bytes  "IMSU"
 * version      1 byte   1
 * image id     8 bytes
 * received at  8 bytes  milliseconds since the epoch
 * name         string   original file name
 * type         string   declared content type
 * category     string   chosen category
 * image        4-byte length, then the bytes as uploaded
 * </pre>
 *
 * where a string is a 4-byte length (-1 for none) and that many UTF-8 bytes, at most {@value
 * #MAX_TEXT_BYTES}. The image travels as raw bytes, not base64, so a record is only 30-odd bytes
 * plus the text longer than the upload: the Kafka size limits (docs/design.md, "The upload record")
 * are the upload limit plus {@link #overhead} of the record.
 *
 * <p>Stateless and thread-safe.
 */
public final class UploadRecordCodec {

    /** The record format's version; a reader refuses versions it does not know. */
    public static final byte VERSION = 1;

    /** Longest name, content type or category in bytes. */
    public static final int MAX_TEXT_BYTES = 4096;

    private static final byte[] MAGIC = {'I', 'M', 'S', 'U'};
    private static final int FIXED_BYTES = MAGIC.length + 1 + 8 + 8 + 4 * 4;

    private UploadRecordCodec() {}

    /** The Kafka key of an upload: its image id in decimal. */
    public static byte[] key(long imageId) {
        return Long.toString(imageId).getBytes(StandardCharsets.US_ASCII);
    }

    /** The image id in a Kafka key, if the key is one this codec wrote. */
    public static OptionalLong parseKey(byte[] key) {
        if (key == null || key.length == 0 || key.length > 19) {
            return OptionalLong.empty();
        }
        try {
            long id = Long.parseLong(new String(key, StandardCharsets.US_ASCII));
            return id > 0 ? OptionalLong.of(id) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** Bytes a record adds to its image, for sizing Kafka's limits. */
    public static int overhead(UploadRecord record) {
        return FIXED_BYTES + utf8(record.originalName()).length + utf8(record.contentType()).length
                + utf8(record.category()).length;
    }

    /** The largest serialized record for an image of {@code maxImageBytes}, with the longest texts. */
    public static long maxRecordBytes(long maxImageBytes) {
        return maxImageBytes + FIXED_BYTES + 3L * MAX_TEXT_BYTES;
    }

    /**
     * Serializes a record.
     *
     * @throws IllegalArgumentException when a text is longer than {@value #MAX_TEXT_BYTES} bytes
     */
    public static byte[] encode(UploadRecord record) {
        byte[] name = checkedUtf8(record.originalName(), "original name");
        byte[] type = checkedUtf8(record.contentType(), "content type");
        byte[] category = checkedUtf8(record.category(), "category");
        ByteBuffer out = ByteBuffer.allocate(FIXED_BYTES + name.length + type.length + category.length
                + record.image().length);
        out.put(MAGIC).put(VERSION).putLong(record.imageId()).putLong(record.receivedAt().toEpochMilli());
        putText(out, record.originalName() == null ? null : name);
        putText(out, record.contentType() == null ? null : type);
        putText(out, record.category() == null ? null : category);
        out.putInt(record.image().length).put(record.image());
        return out.array();
    }

    /**
     * Reads a record written by {@link #encode}.
     *
     * @throws MalformedRecordException when the bytes are not exactly one version-1 record
     */
    public static UploadRecord decode(byte[] bytes) throws MalformedRecordException {
        if (bytes == null) {
            throw new MalformedRecordException("the record has no value");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            byte[] magic = new byte[MAGIC.length];
            in.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new MalformedRecordException("not an imsrc upload record (no IMSU magic)");
            }
            byte version = in.get();
            if (version != VERSION) {
                throw new MalformedRecordException("upload record version " + version + " is not known (this build reads "
                        + VERSION + ")");
            }
            long imageId = in.getLong();
            if (imageId <= 0) {
                throw new MalformedRecordException("the record's image id " + imageId + " is not positive");
            }
            Instant receivedAt = Instant.ofEpochMilli(in.getLong());
            String name = getText(in, "original name");
            String type = getText(in, "content type");
            String category = getText(in, "category");
            int length = in.getInt();
            if (length < 0 || length != in.remaining()) {
                throw new MalformedRecordException("the record announces " + length + " image bytes but holds "
                        + in.remaining());
            }
            byte[] image = new byte[length];
            in.get(image);
            return new UploadRecord(imageId, image, name, type, category, receivedAt);
        } catch (BufferUnderflowException e) {
            throw new MalformedRecordException("the record ends early (" + bytes.length + " bytes)");
        }
    }

    private static void putText(ByteBuffer out, byte[] utf8) {
        if (utf8 == null) {
            out.putInt(-1);
        } else {
            out.putInt(utf8.length).put(utf8);
        }
    }

    private static String getText(ByteBuffer in, String what) throws MalformedRecordException {
        int length = in.getInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > MAX_TEXT_BYTES || length > in.remaining()) {
            throw new MalformedRecordException("the record's " + what + " has an impossible length " + length);
        }
        byte[] utf8 = new byte[length];
        in.get(utf8);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedRecordException("the record's " + what + " is not UTF-8");
        }
    }

    private static byte[] utf8(String text) {
        return text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] checkedUtf8(String text, String what) {
        byte[] utf8 = utf8(text);
        if (utf8.length > MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("the " + what + " is " + utf8.length + " bytes, more than "
                    + MAX_TEXT_BYTES);
        }
        return utf8;
    }
}
