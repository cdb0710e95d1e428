package io.imsrc.train.dataset;

/** The training data cannot be had or cannot train a model; the message says why, for a person. */
public final class TrainingDataException extends Exception {

    private static final long serialVersionUID = 1L;

    public TrainingDataException(String message) {
        super(message);
    }

    public TrainingDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
