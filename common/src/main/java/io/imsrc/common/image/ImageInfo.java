package io.imsrc.common.image;

import java.util.Objects;

/**
 * What an image's header says: its real format (from the magic bytes) and its size in pixels.
 * This is what the images table stores beside the bytes.
 */
public record ImageInfo(ImageFormat format, int width, int height) {

    public ImageInfo {
        Objects.requireNonNull(format, "format");
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("width and height must be positive, got " + width + "x" + height);
        }
    }

    public long pixels() {
        return (long) width * height;
    }
}
