package io.imsrc.common.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import static io.imsrc.testing.TestImages.encode;
import static io.imsrc.testing.TestImages.noise;

import io.imsrc.common.image.InvalidImageException.Reason;
import io.imsrc.testing.TestImages;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {

    // ---- rejected input -------------------------------------------------------------------

    @Test
    void empty_input_is_rejected_as_empty() {
        assertRejected(new byte[0], Reason.EMPTY);
    }

    @Test
    void a_text_file_is_rejected_as_not_an_image() {
        byte[] text = "a cat sat on the mat, not a picture of one\n".getBytes(StandardCharsets.UTF_8);

        assertRejected(text, Reason.NOT_AN_IMAGE);
    }

    @Test
    void a_text_file_starting_with_bm_is_not_mistaken_for_a_bitmap() {
        assertRejected("BM is how this sentence starts".getBytes(StandardCharsets.US_ASCII), Reason.NOT_AN_IMAGE);
    }

    @Test
    void known_formats_imsrc_does_not_decode_are_rejected_as_unsupported() {
        byte[] tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);

        assertRejected(tiff, Reason.UNSUPPORTED_FORMAT);
        assertRejected(webp, Reason.UNSUPPORTED_FORMAT);
    }

    @Test
    void a_jpeg_cut_in_half_is_rejected_as_truncated_not_padded_with_grey() throws IOException {
        byte[] jpeg = encode(noise(64, 48, 1), "jpeg");

        assertRejected(Arrays.copyOf(jpeg, jpeg.length / 2), Reason.TRUNCATED);
    }

    @Test
    void a_jpeg_missing_only_its_last_bytes_is_rejected_as_truncated() throws IOException {
        byte[] jpeg = encode(noise(64, 48, 2), "jpeg");

        assertRejected(Arrays.copyOf(jpeg, jpeg.length - 2), Reason.TRUNCATED);
    }

    @Test
    void a_jpeg_cut_inside_its_header_is_rejected_as_truncated() throws IOException {
        byte[] jpeg = encode(noise(32, 32, 3), "jpeg");

        assertRejected(Arrays.copyOf(jpeg, 200), Reason.TRUNCATED);
    }

    @Test
    void truncated_png_bmp_and_gif_files_are_rejected_as_truncated() throws IOException {
        for (String format : new String[] {"png", "bmp", "gif"}) {
            byte[] bytes = encode(noise(64, 48, 4), format);

            assertRejected(Arrays.copyOf(bytes, bytes.length / 2), Reason.TRUNCATED);
        }
    }

    @Test
    void a_png_announcing_30000_by_30000_pixels_is_rejected_before_decoding() {
        byte[] header = pngHeader(30_000, 30_000);

        assertRejected(header, Reason.TOO_MANY_PIXELS);
        assertThatThrownBy(() -> ImageDecoder.probe(header))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.TOO_MANY_PIXELS))
                .hasMessageContaining("30000x30000");
    }

    @Test
    void the_pixel_limit_is_configurable() throws Exception {
        byte[] png = encode(noise(100, 100, 5), "png");

        assertThat(ImageDecoder.decode(png, ImageDecodeOptions.defaults().withMaxPixels(10_000)).width()).isEqualTo(100);
        assertThatThrownBy(() -> ImageDecoder.decode(png, new ImageDecodeOptions(9_999)))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.TOO_MANY_PIXELS));
    }

    @Test
    void a_complete_png_with_garbage_pixel_data_is_rejected_as_corrupt() throws IOException {
        byte[] png = encode(noise(64, 48, 6), "png");
        int idat = indexOf(png, "IDAT".getBytes(StandardCharsets.US_ASCII));
        for (int i = idat + 4; i < idat + 60; i++) {
            png[i] = (byte) 0xA5;
        }

        assertRejected(png, Reason.CORRUPT);
    }

    @Test
    void a_complete_png_announcing_zero_width_is_rejected_as_corrupt() {
        assertRejected(withIend(pngHeader(0, 10)), Reason.CORRUPT);
    }

    // ---- decoded content ------------------------------------------------------------------

    @Test
    void the_format_comes_from_the_bytes_and_the_size_from_the_header() throws Exception {
        byte[] png = encode(noise(40, 30, 7), "png");

        ImageInfo info = ImageDecoder.probe(png);

        assertThat(info).isEqualTo(new ImageInfo(ImageFormat.PNG, 40, 30));
        assertThat(info.format().id()).isEqualTo("png");
    }

    @Test
    void lossless_formats_round_trip_every_pixel() throws Exception {
        BufferedImage original = noise(37, 23, 8);
        for (String format : new String[] {"png", "bmp"}) {
            DecodedImage decoded = ImageDecoder.decode(encode(original, format));

            assertThat(decoded.format().imageIoName()).isEqualTo(format);
            assertThat(decoded.width()).isEqualTo(37);
            assertThat(decoded.height()).isEqualTo(23);
            assertSamePixels(decoded, original);
        }
    }

    @Test
    void a_gif_decodes_its_palette_colours_exactly() throws Exception {
        BufferedImage palette = paletteImage(20, 10);

        DecodedImage decoded = ImageDecoder.decode(encode(palette, "gif"));

        assertThat(decoded.format()).isEqualTo(ImageFormat.GIF);
        assertSamePixels(decoded, palette);
    }

    @Test
    void an_animated_gif_decodes_its_first_frame() throws Exception {
        byte[] gif = twoFrameGif(Color.RED, Color.BLUE);

        DecodedImage decoded = ImageDecoder.decode(gif);

        assertThat(decoded.rgbAt(0, 0)).isEqualTo(0xFF0000);
    }

    @Test
    void a_jpeg_decodes_close_to_its_source() throws Exception {
        BufferedImage flat = solid(16, 16, new Color(200, 100, 50));

        DecodedImage decoded = ImageDecoder.decode(encode(flat, "jpeg"));

        int rgb = decoded.rgbAt(8, 8);
        assertThat(rgb >> 16 & 0xFF).isBetween(195, 205);
        assertThat(rgb >> 8 & 0xFF).isBetween(95, 105);
        assertThat(rgb & 0xFF).isBetween(45, 55);
    }

    @Test
    void grayscale_images_keep_their_grey_values_in_all_three_channels() throws Exception {
        BufferedImage gray = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_GRAY);
        int[] values = {0, 64, 128, 255};
        for (int x = 0; x < 4; x++) {
            gray.getRaster().setSample(x, 0, 0, values[x]);
        }
        for (String format : new String[] {"png", "jpeg"}) {
            DecodedImage decoded = ImageDecoder.decode(encode(gray, format));

            for (int x = 0; x < 4; x++) {
                int rgb = decoded.rgbAt(x, 0);
                int tolerance = format.equals("png") ? 0 : 3;
                assertThat(rgb >> 16 & 0xFF).isCloseTo(values[x], org.assertj.core.data.Offset.offset(tolerance));
                assertThat(rgb >> 8 & 0xFF).isEqualTo(rgb >> 16 & 0xFF);
                assertThat(rgb & 0xFF).isEqualTo(rgb >> 16 & 0xFF);
            }
        }
    }

    @Test
    void sixteen_bit_grayscale_is_scaled_to_eight_bits() throws Exception {
        BufferedImage gray16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        gray16.getRaster().setSample(0, 0, 0, 65535);
        gray16.getRaster().setSample(1, 0, 0, 32896); // 128.5 / 255 of full scale

        DecodedImage decoded = ImageDecoder.decode(encode(gray16, "png"));

        assertThat(decoded.rgbAt(0, 0)).isEqualTo(0xFFFFFF);
        assertThat(decoded.rgbAt(1, 0) & 0xFF).isEqualTo(128);
    }

    @Test
    void transparent_pixels_are_composited_on_white() throws Exception {
        BufferedImage argb = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00000000); // fully transparent black
        argb.setRGB(1, 0, 0xFF000000); // opaque black
        argb.setRGB(2, 0, 0x80FF0000); // half-transparent red

        DecodedImage decoded = ImageDecoder.decode(encode(argb, "png"));

        assertThat(decoded.rgbAt(0, 0)).isEqualTo(0xFFFFFF);
        assertThat(decoded.rgbAt(1, 0)).isEqualTo(0x000000);
        assertThat(decoded.rgbAt(2, 0)).isEqualTo(0xFF7F7F);
    }

    @Test
    void a_transparent_gif_background_becomes_white() throws Exception {
        byte[] r = {(byte) 255, 0};
        byte[] g = {0, 0};
        byte[] b = {0, 0};
        IndexColorModel model = new IndexColorModel(1, 2, r, g, b, 1); // index 1 is transparent
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_BINARY, model);
        image.getRaster().setSample(0, 0, 0, 0);
        image.getRaster().setSample(1, 0, 0, 1);

        DecodedImage decoded = ImageDecoder.decode(encode(image, "gif"));

        assertThat(decoded.rgbAt(0, 0)).isEqualTo(0xFF0000);
        assertThat(decoded.rgbAt(1, 0)).isEqualTo(0xFFFFFF);
    }

    @Test
    void an_adobe_cmyk_jpeg_decodes_to_approximate_rgb() throws Exception {
        // Adobe stores CMYK inverted (255 = no ink): no cyan, full magenta and yellow, no black is red.
        byte[] jpeg = withAdobeMarker(encodeFourChannels(255, 0, 0, 255), 0);

        assertReddish(ImageDecoder.decode(jpeg));
    }

    @Test
    void an_adobe_ycck_jpeg_decodes_to_approximate_rgb() throws Exception {
        // YCCK holds the inverted C, M, Y as if they were R, G, B in YCbCr: (0, 255, 255) for red.
        byte[] jpeg = withAdobeMarker(encodeFourChannels(179, 171, 0, 255), 2);

        assertReddish(ImageDecoder.decode(jpeg));
    }

    private static void assertReddish(DecodedImage decoded) {
        int rgb = decoded.rgbAt(8, 8);
        assertThat(rgb >> 16 & 0xFF).as("red of %06x", rgb).isGreaterThan(200);
        assertThat(rgb >> 8 & 0xFF).as("green of %06x", rgb).isLessThan(60);
        assertThat(rgb & 0xFF).as("blue of %06x", rgb).isLessThan(60);
    }

    @Test
    void the_name_of_a_file_plays_no_part_only_the_bytes_do() throws Exception {
        byte[] gifBytes = encode(paletteImage(4, 4), "gif");

        assertThat(ImageFormat.sniff(gifBytes)).contains(ImageFormat.GIF);
        assertThat(ImageDecoder.decode(gifBytes).format()).isEqualTo(ImageFormat.GIF);
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static void assertRejected(byte[] bytes, Reason reason) {
        assertThatThrownBy(() -> ImageDecoder.decode(bytes))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> {
                    assertThat(e.reason()).as("reason (%s)", e.getMessage()).isEqualTo(reason);
                    assertThat(e.getMessage()).isNotBlank();
                });
    }

    private static void assertSamePixels(DecodedImage decoded, BufferedImage expected) {
        for (int y = 0; y < expected.getHeight(); y++) {
            for (int x = 0; x < expected.getWidth(); x++) {
                assertThat(decoded.rgbAt(x, y)).as("pixel (%d, %d)", x, y).isEqualTo(expected.getRGB(x, y) & 0xFFFFFF);
            }
        }
    }

    private static BufferedImage solid(int width, int height, Color color) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, width, height);
        g.dispose();
        return image;
    }

    private static BufferedImage paletteImage(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED);
        int[] colours = {0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF, 0x000000};
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, colours[(x + y) % colours.length]);
            }
        }
        return image;
    }

    /** A 16x16 JPEG of one four-channel colour, written as raw channels (no colour transform). */
    private static byte[] encodeFourChannels(int... channels) throws IOException {
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 16, 16, 4, null);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                raster.setPixel(x, y, channels);
            }
        }
        return encodeRaster(raster);
    }

    /** Inserts the APP14 segment Adobe applications write, with the given colour transform. */
    private static byte[] withAdobeMarker(byte[] jpeg, int transform) {
        byte[] app14 = {(byte) 0xFF, (byte) 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, (byte) transform};
        byte[] out = new byte[jpeg.length + app14.length];
        System.arraycopy(jpeg, 0, out, 0, 2);
        System.arraycopy(app14, 0, out, 2, app14.length);
        System.arraycopy(jpeg, 2, out, 2 + app14.length, jpeg.length - 2);
        return out;
    }

    private static byte[] encodeRaster(Raster raster) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.write(null, new IIOImage(raster, null, null), null);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static byte[] twoFrameGif(Color first, Color second) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.prepareWriteSequence(null);
            writer.writeToSequence(new IIOImage(TestImages.indexed(solid(8, 8, first)), null, null), null);
            writer.writeToSequence(new IIOImage(TestImages.indexed(solid(8, 8, second)), null, null), null);
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /** The PNG signature and an IHDR chunk (8-bit RGB) with a correct CRC, and nothing else. */
    static byte[] pngHeader(int width, int height) {
        byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        byte[] chunk = new byte[4 + 13];
        System.arraycopy("IHDR".getBytes(StandardCharsets.US_ASCII), 0, chunk, 0, 4);
        putInt(chunk, 4, width);
        putInt(chunk, 8, height);
        chunk[12] = 8; // bit depth
        chunk[13] = 2; // colour type: truecolour
        CRC32 crc = new CRC32();
        crc.update(chunk);
        byte[] png = new byte[8 + 4 + chunk.length + 4];
        System.arraycopy(signature, 0, png, 0, 8);
        putInt(png, 8, 13);
        System.arraycopy(chunk, 0, png, 12, chunk.length);
        putInt(png, 12 + chunk.length, (int) crc.getValue());
        return png;
    }

    private static byte[] withIend(byte[] png) {
        byte[] iend = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};
        byte[] out = Arrays.copyOf(png, png.length + iend.length);
        System.arraycopy(iend, 0, out, png.length, iend.length);
        return out;
    }

    private static void putInt(byte[] bytes, int offset, int value) {
        bytes[offset] = (byte) (value >>> 24);
        bytes[offset + 1] = (byte) (value >>> 16);
        bytes[offset + 2] = (byte) (value >>> 8);
        bytes[offset + 3] = (byte) value;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }
}
