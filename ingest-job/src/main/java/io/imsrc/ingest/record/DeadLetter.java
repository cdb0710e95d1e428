package io.imsrc.ingest.record;

import io.imsrc.common.record.Rejection;
import java.util.Objects;

/**
 * A record the job refused, with the reason: written to the dead_letters table and, for an
 * upload, to its row in uploads (state rejected).
 *
 * @param detail a sentence for a person
 */
public record DeadLetter(ImageMeta meta, Rejection reason, String detail) {

    public DeadLetter {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(reason, "reason");
    }
}
