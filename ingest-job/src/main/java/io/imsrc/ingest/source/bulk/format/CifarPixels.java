package io.imsrc.ingest.source.bulk.format;

import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageFormat;
import io.imsrc.common.image.ImageInfo;

/**
 * The pixels of one CIFAR-10 record: three planes of 32 x 32 bytes (red, green, blue, each
 * row-major), turned into the interleaved RGB image the rest of imsrc works with. The job feeds the
 * model from these pixels themselves, bit for bit what the reference pipeline sees, and stores them
 * as PNG.
 */
public final class CifarPixels {

    /** Side of a CIFAR-10 image. */
    public static final int SIDE = 32;

    /** Pixel bytes of one record: three planes of 32 x 32. */
    public static final int BYTES = 3 * SIDE * SIDE;

    private CifarPixels() {}

    /**
     * A record's planar pixels as an image.
     *
     * @throws IllegalArgumentException when {@code planes} is not {@value #BYTES} bytes long
     */
    public static DecodedImage toImage(byte[] planes) {
        if (planes.length != BYTES) {
            throw new IllegalArgumentException("a CIFAR-10 record has " + BYTES + " pixel bytes, got " + planes.length);
        }
        int area = SIDE * SIDE;
        byte[] rgb = new byte[BYTES];
        for (int p = 0, i = 0; p < area; p++, i += 3) {
            rgb[i] = planes[p];
            rgb[i + 1] = planes[area + p];
            rgb[i + 2] = planes[2 * area + p];
        }
        return new DecodedImage(new ImageInfo(ImageFormat.PNG, SIDE, SIDE), rgb);
    }
}
