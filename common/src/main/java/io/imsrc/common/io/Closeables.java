package io.imsrc.common.io;

import java.util.Arrays;

/**
 * Closing several resources in order without letting one failure hide another, as the owners of
 * native and network resources do in their {@code close()} (the pattern of Flink's {@code
 * JdbcOutputFormat.close} and Kafka's {@code KafkaWriter}).
 */
public final class Closeables {

    private Closeables() {}

    /**
     * Closes {@code resource} and returns the failure so far: {@code failure} with this close's
     * failure added as suppressed, or this close's failure when there was none before, or {@code
     * failure} unchanged when the close succeeds. A checked exception is wrapped.
     */
    public static RuntimeException close(AutoCloseable resource, RuntimeException failure) {
        try {
            resource.close();
            return failure;
        } catch (Exception e) {
            RuntimeException wrapped = e instanceof RuntimeException r ? r : new IllegalStateException(e);
            if (failure == null) {
                return wrapped;
            }
            failure.addSuppressed(wrapped);
            return failure;
        }
    }

    /**
     * Closes every resource in the order given, null ones skipped, and throws the first failure
     * with the later ones suppressed, after all have been tried.
     */
    public static void closeAll(AutoCloseable... resources) {
        closeAll(Arrays.asList(resources));
    }

    /** {@link #closeAll(AutoCloseable...)} over a list, in its order. */
    public static void closeAll(Iterable<? extends AutoCloseable> resources) {
        RuntimeException failure = null;
        for (AutoCloseable resource : resources) {
            if (resource != null) {
                failure = close(resource, failure);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * {@link #closeAll(AutoCloseable...)} for a close that may throw checked exceptions: the first
     * failure is thrown as it was thrown, unwrapped, with the later ones suppressed.
     */
    public static void closeAllChecked(AutoCloseable... resources) throws Exception {
        Exception failure = null;
        for (AutoCloseable resource : resources) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
