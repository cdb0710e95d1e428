package io.imsrc.common.record;

/**
 * Bytes that are not a record of the expected format (wrong magic, unknown version, lengths that
 * do not add up). Checked, so that a consumer decides what a bad record means to it: the ingest job
 * turns it into a dead letter and keeps running.
 */
public final class MalformedRecordException extends Exception {

    private static final long serialVersionUID = 1L;

    public MalformedRecordException(String message) {
        super(message);
    }
}
