package io.imsrc.common.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Encodes RGB pixels as a PNG file (8-bit truecolour, no interlace), so that images that arrive as
 * raw pixels (CIFAR-10's binary records) are stored in a form a browser shows.
 *
 * <p>Written out rather than through javax.imageio because the job encodes every CIFAR record: for
 * a 32x32 image ImageIO's writer costs several times the compression itself (writer lookup,
 * metadata trees, stream wrappers). Each row gets the filter libpng's default heuristic picks (the
 * one whose output has the smallest sum of absolute values), then the whole is deflated at the
 * default level.
 *
 * <p>Pure functions, thread-safe; the native deflater of each call is released before it returns.
 */
public final class PngEncoder {

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final int FILTERS = 5;

    private PngEncoder() {}

    /** The image as a PNG file. */
    public static byte[] encode(DecodedImage image) {
        Objects.requireNonNull(image, "image");
        return encodeRgb(image.rgb(), image.width(), image.height());
    }

    /** Interleaved RGB bytes ({@code 3 * width * height}, row-major) as a PNG file. */
    public static byte[] encodeRgb(byte[] rgb, int width, int height) {
        Objects.requireNonNull(rgb, "rgb");
        if (width < 1 || height < 1 || rgb.length != 3L * width * height) {
            throw new IllegalArgumentException(
                    "expected " + 3L * width * height + " RGB bytes for " + width + "x" + height + ", got " + rgb.length);
        }
        byte[] filtered = filterRows(rgb, width, height);
        ByteArrayOutputStream out = new ByteArrayOutputStream(filtered.length / 2 + 128);
        out.writeBytes(SIGNATURE);
        ByteBuffer header = ByteBuffer.allocate(13)
                .putInt(width).putInt(height)
                .put((byte) 8)  // bit depth
                .put((byte) 2)  // colour type: truecolour
                .put((byte) 0)  // compression: deflate
                .put((byte) 0)  // filter method 0
                .put((byte) 0); // no interlace
        writeChunk(out, "IHDR", header.array(), 13);
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        try {
            deflater.setInput(filtered);
            deflater.finish();
            ByteArrayOutputStream compressed = new ByteArrayOutputStream(filtered.length / 2 + 64);
            byte[] buffer = new byte[8192];
            while (!deflater.finished()) {
                int n = deflater.deflate(buffer);
                compressed.write(buffer, 0, n);
            }
            writeChunk(out, "IDAT", compressed.toByteArray(), compressed.size());
        } finally {
            deflater.end();
        }
        writeChunk(out, "IEND", new byte[0], 0);
        return out.toByteArray();
    }

    /** Each row as its filter type byte followed by the filtered bytes. */
    static byte[] filterRows(byte[] rgb, int width, int height) {
        int stride = 3 * width;
        byte[] out = new byte[height * (stride + 1)];
        byte[][] candidates = new byte[FILTERS][stride];
        for (int y = 0; y < height; y++) {
            int row = y * stride;
            int previous = y == 0 ? -1 : row - stride;
            int best = 0;
            long bestScore = Long.MAX_VALUE;
            for (int filter = 0; filter < FILTERS; filter++) {
                byte[] candidate = candidates[filter];
                long score = 0;
                for (int x = 0; x < stride; x++) {
                    int raw = rgb[row + x] & 0xFF;
                    int left = x >= 3 ? rgb[row + x - 3] & 0xFF : 0;
                    int up = previous >= 0 ? rgb[previous + x] & 0xFF : 0;
                    int upLeft = previous >= 0 && x >= 3 ? rgb[previous + x - 3] & 0xFF : 0;
                    int predicted = switch (filter) {
                        case 0 -> 0;
                        case 1 -> left;
                        case 2 -> up;
                        case 3 -> (left + up) >>> 1;
                        default -> paeth(left, up, upLeft);
                    };
                    byte value = (byte) (raw - predicted);
                    candidate[x] = value;
                    score += Math.abs(value);
                }
                if (score < bestScore) {
                    bestScore = score;
                    best = filter;
                }
            }
            int target = y * (stride + 1);
            out[target] = (byte) best;
            System.arraycopy(candidates[best], 0, out, target + 1, stride);
        }
        return out;
    }

    private static int paeth(int left, int up, int upLeft) {
        int estimate = left + up - upLeft;
        int toLeft = Math.abs(estimate - left);
        int toUp = Math.abs(estimate - up);
        int toUpLeft = Math.abs(estimate - upLeft);
        if (toLeft <= toUp && toLeft <= toUpLeft) {
            return left;
        }
        return toUp <= toUpLeft ? up : upLeft;
    }

    private static void writeChunk(ByteArrayOutputStream out, String type, byte[] data, int length) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data, 0, length);
        out.writeBytes(ByteBuffer.allocate(4).putInt(length).array());
        out.writeBytes(typeBytes);
        out.write(data, 0, length);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
