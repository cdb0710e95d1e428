package io.imsrc.common.image;

/**
 * Limits applied before an image is decoded.
 *
 * @param maxPixels the most pixels (width x height) an image may announce in its header; larger
 *     images are rejected before any pixel memory is allocated, so a small file with a huge header
 *     (a decompression bomb) cannot exhaust the heap
 */
public record ImageDecodeOptions(long maxPixels) {

    /** 40 megapixels: a 160 MB RGB raster at most, above any photo an upload would carry. */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    public ImageDecodeOptions {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
        }
    }

    public static ImageDecodeOptions defaults() {
        return new ImageDecodeOptions(DEFAULT_MAX_PIXELS);
    }

    public ImageDecodeOptions withMaxPixels(long newMaxPixels) {
        return new ImageDecodeOptions(newMaxPixels);
    }
}
