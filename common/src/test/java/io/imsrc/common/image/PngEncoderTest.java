package io.imsrc.common.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.testing.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PngEncoderTest {

    @Test
    void every_pixel_survives_encoding_and_decoding_with_imageio() throws Exception {
        for (int[] size : new int[][] {{32, 32}, {1, 1}, {7, 3}, {200, 150}}) {
            BufferedImage noise = TestImages.noise(size[0], size[1], size[0] * 31L + size[1]);
            DecodedImage image = ImageDecoder.decode(TestImages.encode(noise, "png"));

            byte[] png = PngEncoder.encode(image);

            BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
            assertThat(back.getWidth()).isEqualTo(size[0]);
            assertThat(back.getHeight()).isEqualTo(size[1]);
            for (int y = 0; y < size[1]; y++) {
                for (int x = 0; x < size[0]; x++) {
                    assertThat(back.getRGB(x, y) & 0xFFFFFF).as("pixel %d,%d", x, y).isEqualTo(image.rgbAt(x, y));
                }
            }
            assertThat(ImageDecoder.decode(png).rgb()).isEqualTo(image.rgb());
        }
    }

    @Test
    void smooth_images_compress_well() {
        byte[] rgb = new byte[3 * 64 * 64];
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int i = 3 * (y * 64 + x);
                rgb[i] = (byte) (x * 4);
                rgb[i + 1] = (byte) (y * 4);
                rgb[i + 2] = (byte) 128;
            }
        }
        assertThat(PngEncoder.encodeRgb(rgb, 64, 64).length).isLessThan(rgb.length / 10);
    }

    @Test
    void the_pixel_count_must_match_the_size() {
        assertThatThrownBy(() -> PngEncoder.encodeRgb(new byte[10], 2, 2)).isInstanceOf(IllegalArgumentException.class);
    }
}
