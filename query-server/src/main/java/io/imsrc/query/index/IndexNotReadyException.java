package io.imsrc.query.index;

/** A search before the first generation of the index is loaded or built (HTTP 503). */
public final class IndexNotReadyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public IndexNotReadyException(String message) {
        super(message);
    }
}
