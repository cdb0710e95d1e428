package io.imsrc.launcher.services;

/**
 * A service imsrc needs could not be started or reached: PostgreSQL (embedded or DB_HOST), the
 * schema migration, or the embedded Kafka broker. The message is one line for the console that
 * names the service, what went wrong and what to do; the cause, with its stack trace, goes to the
 * log only.
 */
public final class ServiceStartException extends Exception {

    ServiceStartException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The message of the innermost cause: what went wrong, without the layers that passed it on. */
    public static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
