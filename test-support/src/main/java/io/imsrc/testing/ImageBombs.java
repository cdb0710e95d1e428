package io.imsrc.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Hostile image files built byte by byte in the test: small files whose headers announce far more
 * pixels than their data holds (decompression bombs), images hidden inside other formats, and
 * metadata that inflates. Nothing is read from disk, so no binary fixture lives in the repository.
 */
public final class ImageBombs {

    private ImageBombs() {}

    // ---- PNG ------------------------------------------------------------------------------

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    /** IHDR's 13 bytes: 8-bit samples of the given colour type, no interlace. */
    public static byte[] ihdr(int width, int height, int colourType) {
        return ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) colourType)
                .put((byte) 0).put((byte) 0).put((byte) 0).array();
    }

    /** A PNG of the given chunks (type, data, type, data, ...) between the signature and IEND. */
    public static byte[] png(Object... typesAndData) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PNG_SIGNATURE);
        for (int i = 0; i < typesAndData.length; i += 2) {
            out.writeBytes(pngChunk((String) typesAndData[i], (byte[]) typesAndData[i + 1]));
        }
        out.writeBytes(pngChunk("IEND", new byte[0]));
        return out.toByteArray();
    }

    public static byte[] pngChunk(String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(typeBytes).put(data)
                .putInt((int) crc.getValue()).array();
    }

    /**
     * An RGB PNG announcing {@code width x height} whose IDAT holds only the first row (zeros,
     * deflated): a few hundred bytes that a reader which trusts the header allocates the whole
     * raster for.
     */
    public static byte[] pngBomb(int width, int height) {
        return png("IHDR", ihdr(width, height, 2), "IDAT", deflate(new byte[1 + 3 * width]));
    }

    /**
     * A palette PNG of 1x1 pixel with a zTXt chunk whose text inflates from {@code compressed}
     * about 1000-fold (deflate's best ratio), the kind of chunk a reader inflates whole when it
     * reads metadata.
     */
    public static byte[] pngWithInflatingText(int inflatedBytes) {
        ByteArrayOutputStream ztxt = new ByteArrayOutputStream();
        ztxt.writeBytes("Comment".getBytes(StandardCharsets.ISO_8859_1));
        ztxt.write(0);
        ztxt.write(0); // compression method: deflate
        ztxt.writeBytes(deflate(new byte[inflatedBytes]));
        byte[] palette = {0, 0, 0};
        return png("IHDR", paletteIhdr(1, 1), "PLTE", palette, "zTXt", ztxt.toByteArray(),
                "IDAT", deflate(new byte[] {0, 0}));
    }

    /**
     * An APNG: a 1x1 default image (IHDR and IDAT), then an animation control and a frame control
     * chunk announcing a {@code frameWidth x frameHeight} frame, whose data is never supplied.
     */
    public static byte[] apngWithHugeFrame(int frameWidth, int frameHeight) {
        byte[] actl = ByteBuffer.allocate(8).putInt(2).putInt(0).array();
        byte[] fctl = ByteBuffer.allocate(26).putInt(0).putInt(frameWidth).putInt(frameHeight).putInt(0).putInt(0)
                .putShort((short) 1).putShort((short) 1).put((byte) 0).put((byte) 0).array();
        return png("IHDR", ihdr(1, 1, 2), "acTL", actl, "fcTL", fctl, "IDAT", deflate(new byte[] {0, 0, 0, 0}));
    }

    private static byte[] paletteIhdr(int width, int height) {
        byte[] ihdr = ihdr(width, height, 3);
        return ihdr;
    }

    // ---- GIF ------------------------------------------------------------------------------

    /**
     * A GIF whose logical screen and first frame are {@code width x height}, with only a few bytes
     * of LZW data: the reader paints the rest of the frame with the background.
     */
    public static byte[] gifBomb(int width, int height) {
        return gif(width, height, new int[][] {{width, height}});
    }

    /** A 1x1 frame on a {@code width x height} logical screen. */
    public static byte[] gifWithHugeScreen(int width, int height) {
        return gif(width, height, new int[][] {{1, 1}});
    }

    /** A GIF with a 1x1 first frame and a {@code width x height} second frame. */
    public static byte[] gifWithHugeSecondFrame(int width, int height) {
        return gif(1, 1, new int[][] {{1, 1}, {width, height}});
    }

    /** A GIF89a with a two-colour global palette and one frame per {width, height}. */
    public static byte[] gif(int screenWidth, int screenHeight, int[][] frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GIF89a".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(le16(screenWidth));
        out.writeBytes(le16(screenHeight));
        out.write(0x80); // global colour table of 2 entries
        out.write(0);
        out.write(0);
        out.writeBytes(new byte[] {0, 0, 0, (byte) 255, (byte) 255, (byte) 255});
        for (int[] frame : frames) {
            out.write(0x2C);
            out.writeBytes(le16(0));
            out.writeBytes(le16(0));
            out.writeBytes(le16(frame[0]));
            out.writeBytes(le16(frame[1]));
            out.write(0);
            out.write(2); // LZW minimum code size
            // clear (4), pixel 1, end of information (5), in 3-bit codes: 100 001 101 -> 0x4C 0x01
            out.writeBytes(new byte[] {2, 0x4C, 0x01, 0});
        }
        out.write(0x3B);
        return out.toByteArray();
    }

    // ---- BMP ------------------------------------------------------------------------------

    /** A BMP whose pixel data is another image, as BI_JPEG (4) or BI_PNG (5) allow. */
    public static byte[] bmpEmbedding(int width, int height, int compression, byte[] embedded) {
        return bmp(width, height, 0, compression, new byte[0], embedded);
    }

    /**
     * {@link #bmpEmbedding} whose header claims the embedded image takes {@code declaredSize} bytes
     * (biSizeImage), far more than the file holds: a reader that sizes its buffer from the header
     * allocates that much before it reads a byte.
     */
    public static byte[] bmpEmbeddingDeclaring(int declaredSize, int compression, byte[] embedded) {
        byte[] bmp = bmpEmbedding(1, 1, compression, embedded);
        ByteBuffer.wrap(bmp).order(ByteOrder.LITTLE_ENDIAN).putInt(14 + 20, declaredSize);
        return bmp;
    }

    /**
     * An 8-bit RLE BMP of {@code width x height} whose data is only "end of bitmap": the reader
     * leaves every pixel at palette entry 0.
     */
    public static byte[] bmpRleBomb(int width, int height) {
        return bmp(width, height, 8, 1, new byte[2 * 4], new byte[] {0, 1});
    }

    /** An uncompressed 24-bit BMP announcing {@code width x height} with only {@code dataBytes} of pixels. */
    public static byte[] bmpShortData(int width, int height, int dataBytes) {
        return bmp(width, height, 24, 0, new byte[0], new byte[dataBytes]);
    }

    private static byte[] bmp(int width, int height, int bitCount, int compression, byte[] palette, byte[] data) {
        int offset = 14 + 40 + palette.length;
        ByteBuffer b = ByteBuffer.allocate(offset + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(offset + data.length).putInt(0).putInt(offset);
        b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) bitCount).putInt(compression)
                .putInt(data.length).putInt(2835).putInt(2835).putInt(palette.length / 4).putInt(0);
        b.put(palette).put(data);
        return b.array();
    }

    // ---- JPEG -----------------------------------------------------------------------------

    /**
     * {@code jpeg} (a small baseline JPEG) with its frame header changed to announce {@code width x
     * height}: the entropy data then ends long before the frame does.
     */
    public static byte[] jpegWithSize(byte[] jpeg, int width, int height) {
        byte[] out = jpeg.clone();
        for (int i = 2; i + 8 < out.length; ) {
            if ((out[i] & 0xFF) != 0xFF) {
                throw new IllegalArgumentException("not a marker at " + i);
            }
            int marker = out[i + 1] & 0xFF;
            int length = (out[i + 2] & 0xFF) << 8 | (out[i + 3] & 0xFF);
            if (marker == 0xC0 || marker == 0xC2) {
                out[i + 5] = (byte) (height >> 8);
                out[i + 6] = (byte) height;
                out[i + 7] = (byte) (width >> 8);
                out[i + 8] = (byte) width;
                return out;
            }
            i += 2 + length;
        }
        throw new IllegalArgumentException("no SOF0 or SOF2 marker");
    }

    /**
     * {@code jpeg} with its last scan (SOS segment and entropy data) repeated until the file holds
     * {@code scans} scans: each more scan is another pass over every block.
     */
    public static byte[] jpegWithScans(byte[] jpeg, int scans) throws IOException {
        int lastScan = -1;
        int count = 0;
        for (int i = 0; i + 1 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xDA) {
                lastScan = i;
                count++;
            }
        }
        int end = jpeg.length - 2; // EOI
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, end);
        for (int i = count; i < scans; i++) {
            out.write(jpeg, lastScan, end - lastScan);
        }
        out.write(jpeg, end, 2);
        return out.toByteArray();
    }

    // ---- helpers --------------------------------------------------------------------------

    public static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            deflater.setInput(data);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    private static byte[] le16(int value) {
        return new byte[] {(byte) value, (byte) (value >> 8)};
    }
}
