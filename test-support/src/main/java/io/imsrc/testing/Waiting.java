package io.imsrc.testing;

import java.time.Duration;

/**
 * Waits for a condition with a generous deadline instead of sleeping for a fixed time: it looks
 * every 50 ms and fails with what it waited for once the deadline has passed.
 */
public final class Waiting {

    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(90);

    private static final long PAUSE_MS = 50;

    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /** Looks for a value: null while there is none yet. */
    @FunctionalInterface
    public interface Probe<T> {
        T find() throws Exception;
    }

    private Waiting() {}

    public static void until(Condition condition, String what) throws Exception {
        until(condition, what, DEFAULT_DEADLINE);
    }

    public static void until(Condition condition, String what, Duration deadline) throws Exception {
        forValue(() -> condition.holds() ? Boolean.TRUE : null, what, deadline);
    }

    /** The first non-null value {@code probe} finds before the deadline. */
    public static <T> T forValue(Probe<T> probe, String what, Duration deadline) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        T value;
        while ((value = probe.find()) == null) {
            if (System.nanoTime() > end) {
                throw new AssertionError("gave up after " + deadline.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(PAUSE_MS);
        }
        return value;
    }
}
