package io.imsrc.common.image;

import io.imsrc.common.image.InvalidImageException.Reason;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads every size a file declares from its structure, without decoding a pixel, and refuses the
 * file before the decoder allocates anything when a size is over the limit or the data could not
 * possibly fill it.
 *
 * <p>What MAX_IMAGE_PIXELS means: no size a file declares may exceed it, whether or not javax.imageio
 * would allocate for it: PNG's IHDR, JPEG's frame header, a BMP's header and the JPEG or PNG a BMP
 * wraps (BI_JPEG, BI_PNG), a GIF's logical screen and every frame's image descriptor. An APNG's
 * animation frames (fcTL) are not decoded (javax.imageio reads only the default image, whose size
 * is IHDR's), so IHDR is the size checked.
 *
 * <p>Within the limit, the data must be able to fill the pixels it declares, judged by the format's
 * best possible compression, so that a kilobyte cannot make the decoder paint 36 megapixels of
 * background: a decoded image costs memory and time in proportion to bytes actually sent. The
 * bounds are generous upper bounds that no valid file exceeds:
 *
 * <ul>
 *   <li>PNG: deflate expands at most 1032-fold, so the raw rows cannot exceed 1032 times the IDAT
 *       bytes;
 *   <li>GIF: an LZW code of w bits stands for at most 2^w pixels, at most 4096 per 12 bits, so
 *       a frame holds at most 2731 pixels per byte of image data;
 *   <li>JPEG: every 8x8 block costs at least one bit (its DC code), at most 512 pixels per byte;
 *   <li>BMP: uncompressed rows must all be present; an RLE run covers at most 255 pixels in two
 *       bytes, and a file that leaves pixels to "end of line", "end of bitmap" or "delta" skips
 *       (which readers fill with colour 0) beyond that ratio is refused.
 * </ul>
 *
 * <p>A progressive JPEG may also carry at most {@value #MAX_JPEG_SCANS} scans: each scan is another
 * pass over every block, and a 125 KB file of 1,000 empty scans over 16 megapixels kept a core busy
 * for 150 s (encoders write about 10; libjpeg-turbo's djpeg offers -maxscans against the same
 * attack).
 *
 * <p>The structure walk is lenient where the decoder is strict: a file that ends early is walked as
 * far as it goes and left for the decoder to report as truncated. Pure functions, thread-safe.
 *
 * <p>About 380 lines, one class on purpose: the four walks are short (40-70 lines each) and share
 * the limit check, the error wording and the byte readers, and the whole defence reads as one
 * list against the list of formats above; a class per format would spread it over five files.
 */
final class DeclaredSizes {

    static final int MAX_JPEG_SCANS = 64;

    private static final long PNG_DEFLATE_RATIO = 1032;
    private static final long GIF_PIXELS_PER_BYTE = 2731;
    private static final long JPEG_PIXELS_PER_BYTE = 512;
    private static final long BMP_RLE_PIXELS_PER_BYTE = 128;

    private static final int BI_RLE8 = 1;
    private static final int BI_RLE4 = 2;
    private static final int BI_JPEG = 4;
    private static final int BI_PNG = 5;

    private DeclaredSizes() {}

    /** The JPEG or PNG file inside a BMP, which is decoded (and checked) as what it is. */
    record Embedded(ImageFormat format, byte[] bytes, int width, int height) {}

    /**
     * Checks every size {@code bytes} declare.
     *
     * @return the image a BMP wraps, or {@code null} when the file is decoded as it is
     */
    static Embedded check(ImageFormat format, byte[] bytes, long maxPixels) throws InvalidImageException {
        return switch (format) {
            case PNG -> {
                checkPng(bytes, maxPixels);
                yield null;
            }
            case GIF -> {
                checkGif(bytes, maxPixels);
                yield null;
            }
            case JPEG -> {
                checkJpeg(bytes, maxPixels);
                yield null;
            }
            case BMP -> checkBmp(bytes, maxPixels);
        };
    }

    // ---- PNG ------------------------------------------------------------------------------

    private static void checkPng(byte[] bytes, long maxPixels) throws InvalidImageException {
        int ihdr = 8;
        if (bytes.length < ihdr + 8 + 13 || !ascii(bytes, ihdr + 4, "IHDR")) {
            return; // the decoder reports the broken header
        }
        long width = u32(bytes, ihdr + 8);
        long height = u32(bytes, ihdr + 12);
        int bitDepth = bytes[ihdr + 16] & 0xFF;
        int channels = switch (bytes[ihdr + 17] & 0xFF) {
            case 0, 3 -> 1;
            case 2 -> 3;
            case 4 -> 2;
            case 6 -> 4;
            default -> 0;
        };
        checkPixels("image", width, height, maxPixels);
        if (width == 0 || height == 0 || channels == 0 || bitDepth == 0) {
            return;
        }
        long imageData = 0;
        for (int at = 8; at + 8 <= bytes.length; ) {
            long length = u32(bytes, at);
            long available = Math.min(length, bytes.length - (at + 8L));
            if (ascii(bytes, at + 4, "IDAT")) {
                imageData += available;
            } else if (ascii(bytes, at + 4, "IEND")) {
                break;
            }
            long next = at + 12L + length;
            if (next > bytes.length) {
                break;
            }
            at = (int) next;
        }
        long rowBytes = (width * channels * bitDepth + 7) / 8;
        long raw = rowBytes * height;
        if (raw > PNG_DEFLATE_RATIO * imageData) {
            throw implausible("png", width, height, imageData + " bytes of image data (IDAT), which inflate to at most "
                    + PNG_DEFLATE_RATIO * imageData + " bytes (deflate expands at most " + PNG_DEFLATE_RATIO
                    + "-fold) of the " + raw + " its rows need");
        }
    }

    // ---- GIF ------------------------------------------------------------------------------

    private static void checkGif(byte[] bytes, long maxPixels) throws InvalidImageException {
        if (bytes.length < 13) {
            return;
        }
        checkPixels("gif logical screen", u16le(bytes, 6), u16le(bytes, 8), maxPixels);
        int at = 13;
        int packed = bytes[10] & 0xFF;
        if ((packed & 0x80) != 0) {
            at += 3 << ((packed & 7) + 1);
        }
        int frame = 0;
        while (at < bytes.length) {
            int block = bytes[at] & 0xFF;
            if (block == 0x21) { // extension: label, then data sub-blocks
                at = skipSubBlocks(bytes, at + 2);
            } else if (block == 0x2C) { // image descriptor
                if (at + 10 > bytes.length) {
                    return;
                }
                int width = u16le(bytes, at + 5);
                int height = u16le(bytes, at + 7);
                checkPixels("gif frame " + (frame + 1), width, height, maxPixels);
                int local = bytes[at + 9] & 0xFF;
                at += 10;
                if ((local & 0x80) != 0) {
                    at += 3 << ((local & 7) + 1);
                }
                at += 1; // LZW minimum code size
                int dataStart = at;
                at = skipSubBlocks(bytes, at);
                if (frame == 0) {
                    long data = dataBytes(bytes, dataStart, Math.min(at, bytes.length));
                    if ((long) width * height > GIF_PIXELS_PER_BYTE * data) {
                        throw implausible("gif", width, height, data + " bytes of LZW data for its first frame, "
                                + "which decode to at most " + GIF_PIXELS_PER_BYTE * data + " pixels");
                    }
                }
                frame++;
            } else {
                return; // the trailer (0x3B), or something the decoder will judge
            }
        }
    }

    /** The index after the sub-blocks starting at {@code at} (sizes, then a zero terminator). */
    private static int skipSubBlocks(byte[] bytes, int at) {
        while (at < bytes.length) {
            int size = bytes[at] & 0xFF;
            at += 1 + size;
            if (size == 0) {
                break;
            }
        }
        return at;
    }

    /** The data bytes (without the size bytes) of the sub-blocks between {@code from} and {@code to}. */
    private static long dataBytes(byte[] bytes, int from, int to) {
        long data = 0;
        for (int at = from; at < to; ) {
            int size = bytes[at] & 0xFF;
            data += Math.min(size, Math.max(0, to - at - 1));
            at += 1 + size;
        }
        return data;
    }

    // ---- JPEG -----------------------------------------------------------------------------

    private static void checkJpeg(byte[] bytes, long maxPixels) throws InvalidImageException {
        boolean sized = false;
        int scans = 0;
        int at = 2;
        while (at + 1 < bytes.length) {
            if ((bytes[at] & 0xFF) != 0xFF) {
                return; // not a marker: the decoder judges
            }
            int marker = bytes[at + 1] & 0xFF;
            if (marker == 0xFF) {
                at++; // fill byte
                continue;
            }
            if (marker == 0xD9) {
                break;
            }
            if (marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
                at += 2;
                continue;
            }
            if (at + 4 > bytes.length) {
                return;
            }
            int length = u16be(bytes, at + 2);
            if (isStartOfFrame(marker) && !sized && at + 9 <= bytes.length) {
                sized = true;
                int height = u16be(bytes, at + 5);
                int width = u16be(bytes, at + 7);
                checkPixels("image", width, height, maxPixels);
                if ((long) width * height > JPEG_PIXELS_PER_BYTE * bytes.length) {
                    throw implausible("jpeg", width, height, bytes.length + " bytes, and every 8x8 block takes at "
                            + "least one bit: at most " + JPEG_PIXELS_PER_BYTE * bytes.length + " pixels");
                }
            }
            at += 2 + length;
            if (marker == 0xDA) {
                if (++scans > MAX_JPEG_SCANS) {
                    throw new InvalidImageException(Reason.CORRUPT, "the jpeg has more than " + MAX_JPEG_SCANS
                            + " scans (encoders write about 10); each scan is another pass over every pixel");
                }
                at = skipEntropyCodedData(bytes, at);
            }
        }
    }

    private static boolean isStartOfFrame(int marker) {
        return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    }

    /** The index of the next marker after a scan's data: an 0xFF that is neither stuffing nor a restart. */
    private static int skipEntropyCodedData(byte[] bytes, int at) {
        while (at + 1 < bytes.length) {
            if ((bytes[at] & 0xFF) == 0xFF) {
                int next = bytes[at + 1] & 0xFF;
                if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) {
                    return at;
                }
            }
            at++;
        }
        return bytes.length;
    }

    // ---- BMP ------------------------------------------------------------------------------

    private static Embedded checkBmp(byte[] bytes, long maxPixels) throws InvalidImageException {
        if (bytes.length < 26) {
            return null;
        }
        long offset = u32le(bytes, 10);
        int headerSize = (int) u32le(bytes, 14);
        long width;
        long height;
        int bitCount;
        int compression;
        long declaredDataSize = 0;
        if (headerSize == 12) {
            width = u16le(bytes, 18);
            height = u16le(bytes, 20);
            bitCount = u16le(bytes, 24);
            compression = 0;
        } else if (bytes.length >= 38) {
            width = (int) u32le(bytes, 18);
            height = Math.abs((long) (int) u32le(bytes, 22));
            bitCount = u16le(bytes, 28);
            compression = (int) u32le(bytes, 30);
            declaredDataSize = u32le(bytes, 34);
        } else {
            return null;
        }
        if (width < 1 || height < 1) {
            return null; // the decoder reports the empty or negative size
        }
        checkPixels("image", width, height, maxPixels);
        long available = bytes.length - offset;
        if (offset < 14 + headerSize || available < 0) {
            return null;
        }
        switch (compression) {
            case BI_JPEG, BI_PNG -> {
                ImageFormat wrapped = compression == BI_JPEG ? ImageFormat.JPEG : ImageFormat.PNG;
                // The header's size of the data (biSizeImage) is not trusted: it may claim gigabytes.
                long length = declaredDataSize > 0 ? Math.min(declaredDataSize, available) : available;
                byte[] inner = Arrays.copyOfRange(bytes, (int) offset, (int) (offset + length));
                if (ImageFormat.sniff(inner).orElse(null) != wrapped) {
                    throw new InvalidImageException(Reason.CORRUPT, "the bmp says it wraps a " + wrapped.id()
                            + " (compression " + compression + ") but its data is not one");
                }
                return new Embedded(wrapped, inner, (int) width, (int) height);
            }
            case BI_RLE8, BI_RLE4 -> {
                if (width * height > BMP_RLE_PIXELS_PER_BYTE * available) {
                    throw implausible("bmp", width, height, available + " bytes of run-length data, and a run "
                            + "covers at most 255 pixels in 2 bytes (pixels left to skips are not filled in)");
                }
            }
            default -> {
                if (bitCount >= 1 && bitCount <= 32 && (compression == 0 || compression == 3 || compression == 6)) {
                    long rowBits = width * bitCount;
                    long stride = (rowBits + 31) / 32 * 4;
                    long needed = stride * (height - 1) + (rowBits + 7) / 8;
                    if (needed > available) {
                        throw new InvalidImageException(Reason.TRUNCATED, String.format(Locale.ROOT,
                                "the bmp file ends inside its image data: %dx%d pixels of %d bits need %d bytes, "
                                        + "the file holds %d", width, height, bitCount, needed, available));
                    }
                }
            }
        }
        return null;
    }

    // ---- shared ---------------------------------------------------------------------------

    /** @param what "image", or the part of the file with the size, such as "gif logical screen" */
    private static void checkPixels(String what, long width, long height, long maxPixels)
            throws InvalidImageException {
        // PNG's sizes are unsigned 32-bit: their product can pass Long.MAX_VALUE.
        boolean overflows = Math.multiplyHigh(width, height) != 0 || width * height < 0;
        long pixels = overflows ? Long.MAX_VALUE : width * height;
        if (pixels > maxPixels) {
            throw new InvalidImageException(Reason.TOO_MANY_PIXELS, String.format(Locale.ROOT,
                    "the %s is %dx%d = %s pixels, more than the limit of %d", what, width, height,
                    overflows ? "over 9.2e18" : Long.toString(pixels), maxPixels));
        }
    }

    private static InvalidImageException implausible(String format, long width, long height, String why) {
        return new InvalidImageException(Reason.TRUNCATED, String.format(Locale.ROOT,
                "the %s announces %dx%d pixels but holds only %s: the file is truncated or a decompression bomb",
                format, width, height, why));
    }

    private static boolean ascii(byte[] bytes, int at, String text) {
        if (at < 0 || at + text.length() > bytes.length) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (bytes[at + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static long u32(byte[] b, int at) {
        return (b[at] & 0xFFL) << 24 | (b[at + 1] & 0xFFL) << 16 | (b[at + 2] & 0xFFL) << 8 | (b[at + 3] & 0xFFL);
    }

    private static long u32le(byte[] b, int at) {
        return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
    }

    private static int u16le(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }

    private static int u16be(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }
}
