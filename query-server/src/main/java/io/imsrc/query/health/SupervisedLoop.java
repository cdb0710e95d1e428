package io.imsrc.query.health;

import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A background loop on a daemon thread of its own that nothing stops but {@link #close}: a turn that
 * throws, an Error included, is reported to the loop's {@link WorkerHealth}, which logs it and
 * says how long to back off before the next turn. Should a Throwable escape even that (an
 * OutOfMemoryError while logging), the dying thread starts a replacement; while no thread runs the
 * loop, {@link #problem} says so, so /health/ready answers 503 and an orchestrator can restart the
 * server.
 *
 * <p>Thread-safety: the owner starts and closes it; {@link #problem} may be called from any thread.
 */
public final class SupervisedLoop implements HealthCheck, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SupervisedLoop.class);

    /** One turn of the loop: what the worker does between two checks of whether it should stop. */
    @FunctionalInterface
    public interface Turn {
        void run() throws Exception;
    }

    private final String threadName;
    private final WorkerHealth health;
    private final Turn turn;
    private volatile Thread thread;
    private volatile boolean closed;
    private volatile int replacements; // in a row, without a successful turn between them

    public SupervisedLoop(String threadName, WorkerHealth health, Turn turn) {
        this.threadName = Objects.requireNonNull(threadName, "threadName");
        this.health = Objects.requireNonNull(health, "health");
        this.turn = Objects.requireNonNull(turn, "turn");
    }

    public synchronized SupervisedLoop start() {
        if (thread != null) {
            throw new IllegalStateException(threadName + " is started already");
        }
        startThread(0);
        return this;
    }

    private void startThread(long delayMillis) {
        Thread t = new Thread(() -> {
            try {
                pause(delayMillis);
            } catch (InterruptedException e) {
                return; // closed
            }
            loop();
        }, threadName);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    private void loop() {
        try {
            while (!closed) {
                try {
                    turn.run();
                    health.succeeded();
                    replacements = 0;
                } catch (InterruptedException e) {
                    if (closed) {
                        return;
                    }
                    pause(health.failed(e));
                } catch (Throwable t) {
                    if (closed) {
                        return;
                    }
                    pause(health.failed(t));
                }
            }
        } catch (InterruptedException e) {
            // closed while backing off
        } finally {
            if (!closed) {
                replaceThread();
            }
        }
    }

    private void pause(long millis) throws InterruptedException {
        if (!closed && millis > 0) {
            Thread.sleep(millis);
        }
    }

    private synchronized void replaceThread() {
        if (closed) {
            return;
        }
        // Backs off as a failing turn does: a Throwable that kills every thread at once (memory
        // exhausted for good) must not become a storm of new threads and log lines.
        long delay = Math.min(5_000, 500L << Math.min(replacements++, 4));
        LOG.error("The {} thread ended unexpectedly; starting another in {} ms", threadName, delay);
        startThread(delay);
    }

    public WorkerHealth health() {
        return health;
    }

    @Override
    public String name() {
        return health.name();
    }

    @Override
    public Optional<String> problem() {
        Thread t = thread;
        if (closed || t == null) {
            return Optional.empty();
        }
        if (!t.isAlive()) {
            return Optional.of("the " + threadName + " thread has stopped");
        }
        return health.problem();
    }

    /** Stops the loop: interrupts its thread and waits for it to finish its turn. Idempotent. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
        }
        if (t == null) {
            return;
        }
        t.interrupt();
        try {
            t.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("The {} thread did not stop within 30 s", threadName);
        }
    }
}
