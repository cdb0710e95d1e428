package io.imsrc.train.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmentationTest {

    /** A 3 x 4 x 5 image whose byte at (c, y, x) is 100c + 10y + x + 1, so every pixel is distinct. */
    private static byte[] numbered() {
        byte[] chw = new byte[3 * 4 * 5];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    chw[c * 20 + y * 5 + x] = (byte) (c * 60 + y * 10 + x + 1);
                }
            }
        }
        return chw;
    }

    @Test
    void every_output_pixel_is_a_shifted_or_mirrored_source_pixel_or_padding() {
        byte[] chw = numbered();
        SplittableRandom random = new SplittableRandom(7);
        Set<String> seen = new HashSet<>();
        for (int trial = 0; trial < 200; trial++) {
            float[] out = new float[chw.length + 2];
            Augmentation.augment(chw, 4, 5, 2, random, out, 1);
            assertThat(out[0]).isZero();
            assertThat(out[out.length - 1]).isZero();
            // Recover the shift and flip from the output and check every pixel against them.
            boolean matched = false;
            for (int dy = -2; dy <= 2 && !matched; dy++) {
                for (int dx = -2; dx <= 2 && !matched; dx++) {
                    for (boolean flip : new boolean[] {false, true}) {
                        if (matches(chw, out, dy, dx, flip)) {
                            matched = true;
                            seen.add(dy + "," + dx + "," + flip);
                            break;
                        }
                    }
                }
            }
            assertThat(matched).as("trial %d is a crop of the padded image, mirrored or not", trial).isTrue();
        }
        assertThat(seen).as("shifts and flips are all drawn").hasSizeGreaterThan(30);
    }

    private static boolean matches(byte[] chw, float[] out, int dy, int dx, boolean flip) {
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    int sy = y + dy;
                    int sx = (flip ? 4 - x : x) + dx;
                    float expected = sy < 0 || sy >= 4 || sx < 0 || sx >= 5 ? 0f : (chw[c * 20 + sy * 5 + sx] & 0xFF) / 255f;
                    if (out[1 + c * 20 + y * 5 + x] != expected) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    @Test
    void the_same_seed_gives_the_same_crops() {
        byte[] chw = numbered();
        float[] a = new float[chw.length];
        float[] b = new float[chw.length];
        Augmentation.augment(chw, 4, 5, 2, new SplittableRandom(3), a, 0);
        Augmentation.augment(chw, 4, 5, 2, new SplittableRandom(3), b, 0);
        assertThat(a).containsExactly(b);
    }

    @Test
    void plain_scales_bytes_to_the_unit_interval() {
        float[] out = new float[3];
        Augmentation.plain(new byte[] {0, (byte) 255, (byte) 51}, out, 0);
        assertThat(out).containsExactly(0f, 1f, 0.2f);
    }
}
