package io.imsrc.common.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.image.InvalidImageException.Reason;
import io.imsrc.testing.ImageBombs;
import io.imsrc.testing.TestImages;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import javax.imageio.ImageWriteParam;
import org.junit.jupiter.api.Test;

/**
 * Small files that announce huge images, in every format, built byte by byte: each is refused from
 * its structure before the decoder allocates the raster it announces, which the test checks by the
 * bytes the decoding thread allocated. Before these checks, most of them made the decoder allocate
 * 100 to 300 MB (a 35-byte GIF and a 64-byte BMP decoded to 36 megapixels of background), and a
 * 123-byte BMP allocated 2 GiB.
 *
 * <p>Valid files of the same kinds, compressed as well as their encoders can, still decode: the
 * limits are upper bounds no valid file reaches.
 */
class DecompressionBombTest {

    /** Far below any raster the bombs announce (100 MB and up), far above what a refusal costs. */
    private static final long SMALL_ALLOCATION = 8L << 20;

    // ---- bombs ----------------------------------------------------------------------------

    @Test
    void a_png_whose_image_data_cannot_fill_its_header_is_refused_as_truncated() {
        assertRefusedCheaply(ImageBombs.pngBomb(6000, 6000), Reason.TRUNCATED, "1032");
    }

    @Test
    void a_png_whose_sizes_multiply_past_the_range_of_a_long_is_refused_as_too_many_pixels() {
        byte[] png = ImageBombs.png("IHDR", ImageBombs.ihdr(-1, -1, 2)); // 4294967295 x 4294967295

        assertRefusedCheaply(png, Reason.TOO_MANY_PIXELS, "4294967295x4294967295");
    }

    @Test
    void a_gif_frame_with_two_bytes_of_data_for_36_megapixels_is_refused_as_truncated() {
        byte[] gif = ImageBombs.gifBomb(6000, 6000);
        assertThat(gif.length).isLessThan(64);

        assertRefusedCheaply(gif, Reason.TRUNCATED, "LZW");
    }

    @Test
    void a_gif_logical_screen_over_the_limit_is_refused_though_its_frame_is_one_pixel() {
        assertRefusedCheaply(ImageBombs.gifWithHugeScreen(65535, 65535), Reason.TOO_MANY_PIXELS, "logical screen");
    }

    @Test
    void a_gif_whose_second_frame_is_over_the_limit_is_refused_though_only_the_first_is_decoded() {
        assertRefusedCheaply(ImageBombs.gifWithHugeSecondFrame(65535, 65535), Reason.TOO_MANY_PIXELS, "frame 2");
    }

    @Test
    void a_run_length_bmp_that_ends_at_once_is_refused_as_truncated() {
        assertRefusedCheaply(ImageBombs.bmpRleBomb(6000, 6000), Reason.TRUNCATED, "run-length");
    }

    @Test
    void an_uncompressed_bmp_with_rows_missing_is_refused_as_truncated() {
        assertRefusedCheaply(ImageBombs.bmpShortData(6000, 6000, 100), Reason.TRUNCATED, "108000000 bytes");
    }

    @Test
    void a_jpeg_frame_header_announcing_36_megapixels_over_a_few_hundred_bytes_is_refused() throws IOException {
        byte[] jpeg = ImageBombs.jpegWithSize(TestImages.encode(TestImages.noise(8, 8, 1), "jpeg"), 6000, 6000);

        assertRefusedCheaply(jpeg, Reason.TRUNCATED, "8x8 block");
    }

    @Test
    void a_progressive_jpeg_with_more_scans_than_any_encoder_writes_is_refused() throws IOException {
        byte[] jpeg = ImageBombs.jpegWithScans(TestImages.progressiveJpeg(flat(64, 64)), DeclaredSizes.MAX_JPEG_SCANS + 1);

        assertRefusedCheaply(jpeg, Reason.CORRUPT, "scans");
    }

    @Test
    void a_png_inside_a_bmp_is_held_to_its_own_header() {
        byte[] bmp = ImageBombs.bmpEmbedding(1, 1, 5, ImageBombs.pngBomb(32768, 16384));

        assertRefusedCheaply(bmp, Reason.TOO_MANY_PIXELS, "the png inside the bmp");
        assertRefusedCheaply(ImageBombs.bmpEmbedding(6000, 6000, 5, ImageBombs.pngBomb(6000, 6000)),
                Reason.TRUNCATED, "the png inside the bmp");
    }

    @Test
    void a_jpeg_inside_a_bmp_is_held_to_its_own_header() throws IOException {
        byte[] small = TestImages.encode(TestImages.noise(8, 8, 2), "jpeg");

        assertRefusedCheaply(ImageBombs.bmpEmbedding(1, 1, 4, ImageBombs.jpegWithSize(small, 60000, 60000)),
                Reason.TOO_MANY_PIXELS, "the jpeg inside the bmp");
    }

    @Test
    void a_bmp_claiming_its_embedded_png_takes_2_gib_allocates_nothing_for_the_claim() {
        byte[] png = ImageBombs.png("IHDR", ImageBombs.ihdr(1, 1, 2), "IDAT", ImageBombs.deflate(new byte[4]));
        byte[] bmp = ImageBombs.bmpEmbeddingDeclaring(0x7FFF_FFF0, 5, png);
        assertThat(bmp.length).isLessThan(128);

        DecodedImage[] decoded = new DecodedImage[1];
        long allocated = allocatedWhile(() -> decoded[0] = ImageDecoder.decode(bmp));

        assertThat(allocated).isLessThan(SMALL_ALLOCATION);
        assertThat(decoded[0].format()).isEqualTo(ImageFormat.BMP);
        assertThat(decoded[0].width()).isEqualTo(1);
    }

    @Test
    void a_bmp_whose_embedded_image_has_another_size_than_its_header_is_corrupt() throws IOException {
        byte[] png = TestImages.encode(TestImages.noise(4, 4, 3), "png");

        assertRefusedCheaply(ImageBombs.bmpEmbedding(5000, 5000, 5, png), Reason.CORRUPT, "4x4");
    }

    @Test
    void a_bmp_that_says_it_wraps_a_png_but_does_not_is_corrupt() throws IOException {
        byte[] jpeg = TestImages.encode(TestImages.noise(4, 4, 4), "jpeg");

        assertRefusedCheaply(ImageBombs.bmpEmbedding(4, 4, 5, jpeg), Reason.CORRUPT, "wraps a png");
    }

    @Test
    void an_apng_decodes_its_default_image_and_never_allocates_for_its_animation_frames() {
        byte[] apng = ImageBombs.apngWithHugeFrame(100_000, 100_000);

        DecodedImage[] decoded = new DecodedImage[1];
        long allocated = allocatedWhile(() -> decoded[0] = ImageDecoder.decode(apng));

        assertThat(allocated).isLessThan(SMALL_ALLOCATION);
        assertThat(decoded[0].width()).isEqualTo(1);
    }

    @Test
    void compressed_png_text_is_never_inflated() {
        byte[] png = ImageBombs.pngWithInflatingText(64 << 20);
        assertThat(png.length).isLessThan(1 << 20);

        long allocated = allocatedWhile(() -> ImageDecoder.decode(png));

        assertThat(allocated).isLessThan(SMALL_ALLOCATION);
    }

    @Test
    void probing_refuses_the_same_bombs_as_decoding() throws IOException {
        byte[] jpeg = ImageBombs.jpegWithSize(TestImages.encode(TestImages.noise(8, 8, 5), "jpeg"), 6000, 6000);
        for (byte[] bomb : new byte[][] {ImageBombs.pngBomb(6000, 6000), ImageBombs.gifBomb(6000, 6000),
                ImageBombs.bmpRleBomb(6000, 6000), jpeg, ImageBombs.bmpEmbedding(1, 1, 5,
                        ImageBombs.pngBomb(32768, 16384))}) {
            assertThatThrownBy(() -> ImageDecoder.probe(bomb)).isInstanceOf(InvalidImageException.class);
        }
    }

    // ---- valid images of the same kinds ---------------------------------------------------

    @Test
    void a_flat_png_compressed_as_far_as_deflate_goes_still_decodes() throws IOException {
        assertDecodes(TestImages.encode(flat(3000, 2000), "png"), 3000, 2000);
    }

    @Test
    void a_flat_gif_compressed_as_far_as_lzw_goes_still_decodes() throws IOException {
        assertDecodes(TestImages.encode(TestImages.indexed(flat(3000, 2000)), "gif"), 3000, 2000);
    }

    @Test
    void a_flat_progressive_jpeg_still_decodes() throws IOException {
        assertDecodes(TestImages.progressiveJpeg(flat(2048, 1536)), 2048, 1536);
    }

    @Test
    void run_length_bmps_written_by_java_still_decode() throws IOException {
        assertDecodes(bmp(TestImages.indexed(flat(1000, 800)), "BI_RLE8"), 1000, 800);
        assertDecodes(bmp(sixteenColours(flat(1000, 800)), "BI_RLE4"), 1000, 800);
    }

    @Test
    void bmps_wrapping_a_png_or_a_jpeg_decode_as_what_they_wrap() throws IOException {
        BufferedImage noise = TestImages.noise(40, 30, 6);

        DecodedImage png = assertDecodes(bmp(noise, "BI_PNG"), 40, 30);
        assertDecodes(bmp(noise, "BI_JPEG"), 40, 30);

        assertThat(png.format()).isEqualTo(ImageFormat.BMP);
        assertThat(png.rgbAt(7, 5)).isEqualTo(noise.getRGB(7, 5) & 0xFFFFFF);
    }

    // ---- helpers --------------------------------------------------------------------------

    private static void assertRefusedCheaply(byte[] bytes, Reason reason, String detail) {
        InvalidImageException[] thrown = new InvalidImageException[1];
        long allocated = allocatedWhile(() -> {
            try {
                ImageDecoder.decode(bytes);
            } catch (InvalidImageException e) {
                thrown[0] = e;
            }
        });
        assertThat(thrown[0]).as("refused").isNotNull();
        assertThat(thrown[0].reason()).as(thrown[0].getMessage()).isEqualTo(reason);
        assertThat(thrown[0].getMessage()).contains(detail);
        assertThat(allocated).as("bytes allocated to refuse it").isLessThan(SMALL_ALLOCATION);
    }

    private static DecodedImage assertDecodes(byte[] bytes, int width, int height) {
        try {
            DecodedImage decoded = ImageDecoder.decode(bytes);
            assertThat(decoded.width()).isEqualTo(width);
            assertThat(decoded.height()).isEqualTo(height);
            return decoded;
        } catch (InvalidImageException e) {
            throw new AssertionError("a valid image was refused: " + e.getMessage(), e);
        }
    }

    interface Decoding {
        void run() throws InvalidImageException;
    }

    /** The bytes this thread allocated while {@code decoding} ran. */
    private static long allocatedWhile(Decoding decoding) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(id);
        try {
            decoding.run();
        } catch (InvalidImageException e) {
            throw new AssertionError("unexpected refusal: " + e.getMessage(), e);
        }
        return threads.getThreadAllocatedBytes(id) - before;
    }

    private static BufferedImage flat(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(new Color(40, 90, 160));
        g.fillRect(0, 0, width, height);
        g.dispose();
        return image;
    }

    private static BufferedImage sixteenColours(BufferedImage rgb) {
        byte[] levels = new byte[16];
        for (int i = 0; i < 16; i++) {
            levels[i] = (byte) (i * 17);
        }
        BufferedImage indexed = new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_BYTE_BINARY,
                new IndexColorModel(4, 16, levels, levels, levels));
        Graphics2D g = indexed.createGraphics();
        g.drawImage(rgb, 0, 0, null);
        g.dispose();
        return indexed;
    }

    private static byte[] bmp(BufferedImage image, String compression) throws IOException {
        return TestImages.write(image, "bmp", param -> {
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionType(compression);
        });
    }
}
