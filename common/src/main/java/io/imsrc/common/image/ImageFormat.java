package io.imsrc.common.image;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * The image formats imsrc decodes, recognised by their magic bytes.
 *
 * <p>A name or content type is never trusted: {@link #sniff(byte[])} looks at the first bytes only,
 * so an upload called {@code cat.png} that holds a JPEG is decoded as a JPEG, and a text file called
 * {@code cat.jpg} is rejected.
 */
public enum ImageFormat {
    JPEG("jpeg", "image/jpeg"),
    PNG("png", "image/png"),
    BMP("bmp", "image/bmp"),
    GIF("gif", "image/gif");

    private static final byte[] PNG_SIGNATURE = {
        (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'
    };

    private final String imageIoName;
    private final String mediaType;

    ImageFormat(String imageIoName, String mediaType) {
        this.imageIoName = imageIoName;
        this.mediaType = mediaType;
    }

    /** The format name javax.imageio registers its reader under. */
    public String imageIoName() {
        return imageIoName;
    }

    /** The IANA media type, for HTTP responses and stored metadata. */
    public String mediaType() {
        return mediaType;
    }

    /** The lower-case name stored in the images table ({@code jpeg}, {@code png}, ...). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The format whose signature starts {@code bytes}, if it is one imsrc decodes.
     *
     * <p>BMP's two-letter signature {@code BM} is weak, so the size of the DIB header that follows
     * must also be one of the sizes the format defines.
     */
    public static Optional<ImageFormat> sniff(byte[] bytes) {
        if (startsWith(bytes, 0, (byte) 0xFF, (byte) 0xD8, (byte) 0xFF)) {
            return Optional.of(JPEG);
        }
        if (startsWith(bytes, 0, PNG_SIGNATURE)) {
            return Optional.of(PNG);
        }
        if (startsWithAscii(bytes, 0, "GIF87a") || startsWithAscii(bytes, 0, "GIF89a")) {
            return Optional.of(GIF);
        }
        if (startsWithAscii(bytes, 0, "BM") && bytes.length >= 18 && isBmpInfoHeaderSize(littleEndianInt(bytes, 14))) {
            return Optional.of(BMP);
        }
        return Optional.empty();
    }

    /**
     * The name of a well-known image format that imsrc does not decode (TIFF, WebP, HEIF/AVIF,
     * JPEG 2000, Photoshop, ICO), so that such a file is reported as unsupported rather than as
     * "not an image".
     */
    static Optional<String> sniffUnsupported(byte[] bytes) {
        if (startsWith(bytes, 0, (byte) 'I', (byte) 'I', (byte) 42, (byte) 0)
                || startsWith(bytes, 0, (byte) 'M', (byte) 'M', (byte) 0, (byte) 42)) {
            return Optional.of("TIFF");
        }
        if (startsWithAscii(bytes, 0, "RIFF") && startsWithAscii(bytes, 8, "WEBP")) {
            return Optional.of("WebP");
        }
        if (startsWithAscii(bytes, 4, "ftyp")) {
            return Optional.of("HEIF/AVIF (ISO base media)");
        }
        if (startsWith(bytes, 0, (byte) 0, (byte) 0, (byte) 0, (byte) 0x0C, (byte) 'j', (byte) 'P')
                || startsWith(bytes, 0, (byte) 0xFF, (byte) 0x4F, (byte) 0xFF, (byte) 0x51)) {
            return Optional.of("JPEG 2000");
        }
        if (startsWithAscii(bytes, 0, "8BPS")) {
            return Optional.of("Photoshop");
        }
        if (startsWith(bytes, 0, (byte) 0, (byte) 0, (byte) 1, (byte) 0) && bytes.length >= 6 && bytes[4] != 0) {
            return Optional.of("ICO");
        }
        return Optional.empty();
    }

    /**
     * Whether {@code bytes} end the way a complete file of this format ends: JPEG with the EOI
     * marker (trailing zero padding allowed), PNG with the IEND chunk, GIF with its trailer byte,
     * BMP with at least the file size its header declares. Used to tell a truncated file from a
     * corrupt one once decoding has failed; a file may carry extra data after its end and still be
     * complete, so this alone never rejects anything.
     */
    boolean looksComplete(byte[] bytes) {
        int end = bytes.length;
        switch (this) {
            case JPEG:
                while (end > 2 && bytes[end - 1] == 0) {
                    end--;
                }
                return end >= 4 && (bytes[end - 2] & 0xFF) == 0xFF && (bytes[end - 1] & 0xFF) == 0xD9;
            case PNG:
                return end >= 20 && startsWithAscii(bytes, end - 8, "IEND");
            case GIF:
                return end >= 14 && bytes[end - 1] == 0x3B;
            case BMP:
                return end >= 6 && Integer.toUnsignedLong(littleEndianInt(bytes, 2)) <= end;
            default:
                throw new AssertionError(this);
        }
    }

    private static boolean isBmpInfoHeaderSize(int size) {
        return size == 12 || size == 40 || size == 52 || size == 56 || size == 64 || size == 108 || size == 124;
    }

    private static int littleEndianInt(byte[] bytes, int offset) {
        return (bytes[offset] & 0xFF)
                | (bytes[offset + 1] & 0xFF) << 8
                | (bytes[offset + 2] & 0xFF) << 16
                | (bytes[offset + 3] & 0xFF) << 24;
    }

    private static boolean startsWithAscii(byte[] bytes, int offset, String ascii) {
        return startsWith(bytes, offset, ascii.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean startsWith(byte[] bytes, int offset, byte... prefix) {
        if (bytes.length < offset + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[offset + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
