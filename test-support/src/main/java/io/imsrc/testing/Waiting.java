package io.imsrc.testing;

import java.time.Duration;

/** Waits for a condition with a generous deadline instead of sleeping for a fixed time. */
public final class Waiting {

    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(90);

    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    private Waiting() {}

    public static void until(Condition condition, String what) throws Exception {
        until(condition, what, DEFAULT_DEADLINE);
    }

    public static void until(Condition condition, String what, Duration deadline) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("gave up after " + deadline.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
