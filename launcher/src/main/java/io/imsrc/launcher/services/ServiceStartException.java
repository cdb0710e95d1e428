package io.imsrc.launcher;

/**
 * A service imsrc needs could not be started or reached: PostgreSQL (embedded or DB_HOST), the
 * schema migration, or the embedded Kafka broker. The message is one line for the console that
 * names the service, what went wrong and what to do; the cause, with its stack trace, goes to the
 * log only.
 */
final class ServiceStartException extends Exception {

    ServiceStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
