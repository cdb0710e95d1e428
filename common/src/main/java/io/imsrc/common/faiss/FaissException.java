package io.imsrc.common.faiss;

/**
 * A failure reported by FAISS itself: a C++ exception that JavaCPP turned into a
 * {@link RuntimeException}, rethrown with the operation that failed. The message keeps
 * FAISS's own text (for example "could not parse index string ..."), which names the
 * C++ function and the check that failed.
 */
public final class FaissException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FaissException(String message) {
        super(message);
    }

    FaissException(String operation, RuntimeException nativeFailure) {
        super(operation + " failed in FAISS: " + nativeFailure.getMessage(), nativeFailure);
    }
}
