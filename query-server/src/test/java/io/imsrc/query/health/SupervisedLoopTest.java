package io.imsrc.query.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.testing.Waiting;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SupervisedLoopTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final RecordingLogger log = new RecordingLogger();

    private static void await(Waiting.Condition condition, String what) throws Exception {
        Waiting.until(condition, what, DEADLINE);
    }

    @Test
    void an_error_thrown_by_a_turn_does_not_stop_the_loop_and_is_its_problem_until_a_turn_succeeds() throws Exception {
        // Each turn takes its outcome from the test: null succeeds, a Throwable is thrown.
        BlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();
        AtomicInteger turns = new AtomicInteger();
        Object success = new Object();
        try (SupervisedLoop loop = new SupervisedLoop("test-loop", new WorkerHealth("test worker", null, log), () -> {
            Object outcome = outcomes.poll(30, TimeUnit.SECONDS);
            turns.incrementAndGet();
            if (outcome instanceof Throwable t) {
                throwUnchecked(t);
            }
        }).start()) {
            assertThat(loop.problem()).isEmpty();

            outcomes.add(new OutOfMemoryError("simulated"));
            await(() -> loop.problem().isPresent(), "the failure to show");
            assertThat(loop.problem().get()).contains("test worker failing", "simulated");

            outcomes.add(new StackOverflowError());
            outcomes.add(success);
            await(() -> turns.get() == 3 && loop.problem().isEmpty(), "the loop to recover");
            assertThat(loop.name()).isEqualTo("test_worker");
        }
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("test-loop"));
    }

    @Test
    void a_thread_killed_by_a_throwable_its_own_handling_cannot_catch_is_replaced() throws Exception {
        // The failure's own report fails (as an OutOfMemoryError while logging would), once.
        RecordingLogger failingOnce = new RecordingLogger() {
            private boolean failed;

            @Override
            protected synchronized void handleNormalizedLoggingCall(org.slf4j.event.Level level, org.slf4j.Marker marker,
                    String pattern, Object[] arguments, Throwable throwable) {
                if (!failed) {
                    failed = true;
                    throw new OutOfMemoryError("while logging");
                }
                super.handleNormalizedLoggingCall(level, marker, pattern, arguments, throwable);
            }
        };
        AtomicInteger turns = new AtomicInteger();
        Thread[] first = new Thread[1];
        try (SupervisedLoop loop = new SupervisedLoop("dying-loop", new WorkerHealth("dying", null, failingOnce), () -> {
            if (turns.incrementAndGet() == 1) {
                first[0] = Thread.currentThread();
                throw new IllegalStateException("the first turn fails");
            }
            Thread.sleep(10);
        }).start()) {
            await(() -> turns.get() >= 3, "turns on a replacement thread");
            first[0].join(DEADLINE.toMillis());
            assertThat(first[0].isAlive()).isFalse();
            assertThat(Thread.getAllStackTraces().keySet()).anyMatch(t -> t.getName().equals("dying-loop") && t.isAlive());
            await(() -> loop.problem().isEmpty(), "the loop to be healthy again");
        }
    }

    @Test
    void close_stops_a_loop_blocked_in_its_turn() throws Exception {
        SupervisedLoop loop = new SupervisedLoop("blocked-loop", new WorkerHealth("blocked", null, log),
                () -> Thread.sleep(Long.MAX_VALUE)).start();
        await(() -> Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("blocked-loop")),
                "the thread to start");
        loop.close();
        loop.close();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("blocked-loop"));
        assertThat(loop.problem()).isEmpty();
        assertThat(log.entries()).isEmpty();
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void throwUnchecked(Throwable t) throws T {
        throw (T) t;
    }
}
