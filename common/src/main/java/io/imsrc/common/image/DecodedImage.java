package io.imsrc.common.image;

import java.util.Objects;

/**
 * A decoded image as 8-bit sRGB pixels, whatever its source format and colour model was.
 *
 * <p>{@code rgb} is interleaved, row-major (HWC): the red, green and blue bytes of pixel (x, y) sit
 * at {@code 3 * (y * width + x)}. The array is shared, not copied: treat it as read-only.
 *
 * @param info the source format and size
 * @param rgb {@code 3 * width * height} bytes
 */
public record DecodedImage(ImageInfo info, byte[] rgb) {

    public DecodedImage {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(rgb, "rgb");
        if (rgb.length != 3L * info.width() * info.height()) {
            throw new IllegalArgumentException(
                    "expected " + 3L * info.width() * info.height() + " RGB bytes for " + info.width() + "x"
                            + info.height() + ", got " + rgb.length);
        }
    }

    public ImageFormat format() {
        return info.format();
    }

    public int width() {
        return info.width();
    }

    public int height() {
        return info.height();
    }

    /** The pixel at (x, y) as 0xRRGGBB. */
    public int rgbAt(int x, int y) {
        int i = 3 * (y * width() + x);
        return (rgb[i] & 0xFF) << 16 | (rgb[i + 1] & 0xFF) << 8 | (rgb[i + 2] & 0xFF);
    }
}
