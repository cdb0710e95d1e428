package io.imsrc.ingest.admit;

import io.imsrc.common.record.Rejection;
import java.util.Objects;

/** An image the job refuses, with the reason that goes into its dead letter. */
public final class RejectedImageException extends Exception {

    private static final long serialVersionUID = 1L;

    private final Rejection reason;

    public RejectedImageException(Rejection reason, String detail) {
        super(detail);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Rejection reason() {
        return reason;
    }
}
