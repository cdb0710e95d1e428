package io.imsrc.common.embed;

/** The model could not be loaded or could not run. Not about a bad image: see InvalidImageException. */
public final class EmbeddingException extends Exception {

    private static final long serialVersionUID = 1L;

    public EmbeddingException(String message) {
        super(message);
    }

    public EmbeddingException(String message, Throwable cause) {
        super(message, cause);
    }
}
