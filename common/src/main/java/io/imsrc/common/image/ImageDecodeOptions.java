package io.imsrc.common.image;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits applied before and while an image is decoded.
 *
 * @param maxPixels the most pixels (width x height) an image may announce; larger images are
 *     rejected from their headers before any pixel memory is allocated, so a small file with a huge
 *     header (a decompression bomb) cannot exhaust the heap. The limit applies to every size a file
 *     declares: a GIF's logical screen and each of its frames, and the JPEG or PNG inside a BMP
 * @param budget the pixels that may be decoded at once, shared with other decodes
 * @param budgetWait how long a decode waits for room in the budget before it fails with {@link
 *     DecodeBusyException}
 */
public record ImageDecodeOptions(long maxPixels, DecodeBudget budget, Duration budgetWait) {

    /** 40 megapixels: a 160 MB RGB raster at most, above any photo an upload would carry. */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    /** A wait that never ends in practice: a batch job would rather wait than fail a good image. */
    public static final Duration WAIT_AS_LONG_AS_IT_TAKES = Duration.ofNanos(Long.MAX_VALUE);

    public ImageDecodeOptions {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
        }
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(budgetWait, "budgetWait");
        if (budgetWait.isNegative()) {
            throw new IllegalArgumentException("budgetWait must not be negative, got " + budgetWait);
        }
    }

    /** The pixel limit, with the process's shared budget and no limit on the wait for it. */
    public ImageDecodeOptions(long maxPixels) {
        this(maxPixels, DecodeBudget.shared(), WAIT_AS_LONG_AS_IT_TAKES);
    }

    public static ImageDecodeOptions defaults() {
        return new ImageDecodeOptions(DEFAULT_MAX_PIXELS);
    }

    public ImageDecodeOptions withMaxPixels(long newMaxPixels) {
        return new ImageDecodeOptions(newMaxPixels, budget, budgetWait);
    }

    public ImageDecodeOptions withBudget(DecodeBudget newBudget, Duration newWait) {
        return new ImageDecodeOptions(maxPixels, newBudget, newWait);
    }
}
