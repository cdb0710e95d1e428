package io.imsrc.common.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {

    @Test
    void output_is_channel_major_red_plane_then_green_then_blue() {
        // 2x1 image: pixel 0 = (10, 20, 30), pixel 1 = (40, 50, 60)
        DecodedImage image = image(2, 1, 10, 20, 30, 40, 50, 60);

        float[] chw = ImagePreprocessor.toChw(image, 2, 1);

        assertThat(chw).containsExactly(scaled(10, 40, 20, 50, 30, 60));
    }

    @Test
    void pixels_scale_to_the_unit_interval_as_pixel_over_255() {
        DecodedImage image = image(2, 1, 0, 128, 255, 255, 1, 0);

        float[] chw = ImagePreprocessor.toChw(image, 2, 1);

        assertThat(chw).containsExactly(0f, 255 / 255f, 128 / 255f, 1 / 255f, 1f, 0f);
    }

    @Test
    void an_image_already_at_the_input_size_passes_through_untouched() {
        Random random = new Random(42);
        byte[] rgb = new byte[3 * 32 * 32];
        random.nextBytes(rgb);
        DecodedImage image = new DecodedImage(new ImageInfo(ImageFormat.JPEG, 32, 32), rgb);

        float[] chw = ImagePreprocessor.toChw(image, 32, 32);

        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                for (int c = 0; c < 3; c++) {
                    assertThat(chw[c * 1024 + y * 32 + x]).isEqualTo((rgb[3 * (y * 32 + x) + c] & 0xFF) / 255f);
                }
            }
        }
    }

    @Test
    void shrinking_by_two_averages_each_two_by_two_block() {
        // 4x2 grey image: left block 0,100 / 50,50 -> mean 50; right block 200,200 / 200,0 -> 150
        DecodedImage image = gray(4, 2, 0, 100, 200, 200, 50, 50, 200, 0);

        float[] chw = ImagePreprocessor.toChw(image, 2, 1);

        assertThat(chw[0]).isCloseTo(50 / 255f, within(1e-6f));
        assertThat(chw[1]).isCloseTo(150 / 255f, within(1e-6f));
        assertThat(chw[2]).isEqualTo(chw[0]);
        assertThat(chw[5]).isEqualTo(chw[1]);
    }

    @Test
    void shrinking_by_a_fraction_weights_partly_covered_pixels_by_overlap() {
        // 3 pixels to 2: output 0 covers pixel 0 and half of pixel 1
        DecodedImage image = gray(3, 1, 0, 90, 180);

        float[] chw = ImagePreprocessor.toChw(image, 2, 1);

        assertThat(chw[0] * 255).isCloseTo((0 + 0.5f * 90) / 1.5f, within(1e-3f));
        assertThat(chw[1] * 255).isCloseTo((0.5f * 90 + 180) / 1.5f, within(1e-3f));
    }

    @Test
    void enlarging_interpolates_bilinearly_between_pixel_centres() {
        DecodedImage image = gray(2, 1, 0, 200);

        float[] chw = ImagePreprocessor.toChw(image, 4, 1);

        // centres of the 4 outputs fall at source x = -0.25, 0.25, 0.75, 1.25
        assertThat(chw[0] * 255).isCloseTo(0f, within(1e-3f));
        assertThat(chw[1] * 255).isCloseTo(50f, within(1e-3f));
        assertThat(chw[2] * 255).isCloseTo(150f, within(1e-3f));
        assertThat(chw[3] * 255).isCloseTo(200f, within(1e-3f));
    }

    @Test
    void resizing_keeps_a_flat_colour_flat_in_every_direction() {
        byte[] rgb = new byte[3 * 100 * 70];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) 12;
            rgb[i + 1] = (byte) 34;
            rgb[i + 2] = (byte) 250;
        }
        DecodedImage image = new DecodedImage(new ImageInfo(ImageFormat.PNG, 100, 70), rgb);

        for (int[] size : new int[][] {{32, 32}, {7, 200}, {333, 11}}) {
            float[] chw = ImagePreprocessor.toChw(image, size[0], size[1]);
            int plane = size[0] * size[1];
            assertThat(chw).hasSize(3 * plane);
            for (int i = 0; i < plane; i++) {
                assertThat(chw[i] * 255).isCloseTo(12f, within(1e-3f));
                assertThat(chw[plane + i] * 255).isCloseTo(34f, within(1e-3f));
                assertThat(chw[2 * plane + i] * 255).isCloseTo(250f, within(1e-3f));
            }
        }
    }

    private static float[] scaled(int... values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i] / 255f;
        }
        return out;
    }

    private static DecodedImage image(int width, int height, int... rgb) {
        byte[] bytes = new byte[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            bytes[i] = (byte) rgb[i];
        }
        return new DecodedImage(new ImageInfo(ImageFormat.PNG, width, height), bytes);
    }

    private static DecodedImage gray(int width, int height, int... values) {
        byte[] bytes = new byte[3 * values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[3 * i] = (byte) values[i];
            bytes[3 * i + 1] = (byte) values[i];
            bytes[3 * i + 2] = (byte) values[i];
        }
        return new DecodedImage(new ImageInfo(ImageFormat.PNG, width, height), bytes);
    }
}
