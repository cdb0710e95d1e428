package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CifarVariantTest {

    private static final int SIDE = CifarVariant.SIDE;

    private static byte[] randomImage() {
        byte[] rgb = new byte[3 * SIDE * SIDE];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (1 + random.nextInt(255)); // never black, so the padding shows
        }
        return rgb;
    }

    private static int pixel(byte[] rgb, int x, int y) {
        int i = 3 * (y * SIDE + x);
        return (rgb[i] & 0xFF) << 16 | (rgb[i + 1] & 0xFF) << 8 | (rgb[i + 2] & 0xFF);
    }

    @Test
    void the_order_holds_every_offset_and_flip_once_the_original_first_and_its_mirror_second() {
        assertThat(CifarVariant.ORDER).hasSize(9 * 9 * 2);
        assertThat(new HashSet<>(CifarVariant.ORDER)).hasSize(CifarVariant.ORDER.size());
        assertThat(CifarVariant.ORDER.get(0)).isEqualTo(CifarVariant.ORIGINAL);
        assertThat(CifarVariant.ORDER.get(1)).isEqualTo(new CifarVariant(4, 4, true));
        assertThat(CifarVariant.ORDER.stream().filter(CifarVariant::isOriginal)).hasSize(1);
    }

    @Test
    void the_original_is_the_image_itself_and_its_mirror_reverses_each_row() {
        byte[] image = randomImage();
        assertThat(CifarVariant.ORIGINAL.apply(image)).isEqualTo(image);
        byte[] mirror = new CifarVariant(4, 4, true).apply(image);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                assertThat(pixel(mirror, x, y)).isEqualTo(pixel(image, SIDE - 1 - x, y));
            }
        }
    }

    @Test
    void a_crop_shifts_the_image_and_fills_from_the_black_padding() {
        byte[] image = randomImage();
        // Offset (0, 8): the crop starts 4 pixels left of the image and 4 below its top.
        byte[] shifted = new CifarVariant(0, 8, false).apply(image);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                int sx = x - 4;
                int sy = y + 4;
                int expected = sx < 0 || sy >= SIDE ? 0 : pixel(image, sx, sy);
                assertThat(pixel(shifted, x, y)).as("pixel %d,%d", x, y).isEqualTo(expected);
            }
        }
        // Mirrored after the crop: the black band moves to the right edge.
        byte[] mirrored = new CifarVariant(0, 8, true).apply(image);
        assertThat(pixel(mirrored, SIDE - 1, 0)).isZero();
        assertThat(pixel(mirrored, 0, 0)).isEqualTo(pixel(image, SIDE - 5, 4));
    }

    @Test
    void offsets_outside_the_padding_and_images_of_another_size_are_refused() {
        assertThatThrownBy(() -> new CifarVariant(9, 0, false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CifarVariant.ORIGINAL.apply(new byte[3 * 16 * 16]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
