package io.imsrc.common.image;

import java.time.Duration;
import java.util.Locale;

/**
 * The {@link DecodeBudget} had no room for an image within the caller's wait: the bytes may be a
 * perfectly good image, so this is not an {@link InvalidImageException} but a sign to try again
 * later (an HTTP 503 with Retry-After, or a retry in a job).
 *
 * <p>Unchecked because only callers that bound their wait can meet it; with the default options a
 * decode waits for as long as it takes.
 */
public final class DecodeBusyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    DecodeBusyException(long pixels, long inUse, long capacity, Duration waited) {
        super(String.format(Locale.ROOT,
                "%d pixels could not be decoded within %d ms: %d of the decode budget's %d pixels are in use",
                pixels, waited.toMillis(), inUse, capacity));
    }
}
