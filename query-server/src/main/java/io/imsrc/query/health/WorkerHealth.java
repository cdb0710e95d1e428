package io.imsrc.query.health;

import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * The health of one background worker (a loop on a thread of its own), as /health/ready reports
 * it, and how the worker logs and backs off while it fails.
 *
 * <p>The worker reports every turn: {@link #succeeded} or {@link #failed}. A failure is logged at
 * WARN once per distinct cause (the root cause's class and message, digits aside, so a message
 * that names a duration does not count as new each time), with its stack trace when it is an
 * Error, which a service being away does not explain; repeats go to DEBUG, and the recovery is
 * logged at INFO with how long it took. {@link #failed} answers how long to back off: 0.5 s,
 * doubling up to 5 s, back to the start after a success.
 *
 * <p>Thread-safe: the worker's thread reports, any thread reads {@link #problem}.
 */
public final class WorkerHealth implements HealthCheck {

    static final long FIRST_BACKOFF_MILLIS = 500;
    // Short: a retry costs a query or a connection attempt, and a service that comes back is used
    // within seconds; the log stays quiet anyway, as repeats go to DEBUG.
    static final long MAX_BACKOFF_MILLIS = 5_000;

    private record Failing(String reason, String signature, long sinceMillis, int tries) {}

    private final String name;
    private final String meanwhile;
    private final Logger log;
    private Failing failing; // guarded by this; null while healthy
    private long backoffMillis = FIRST_BACKOFF_MILLIS; // guarded by this

    /**
     * @param name what the worker does, in words ("index refresh"); /health/ready names it in snake
     *     case
     * @param meanwhile what the server does while the worker fails, for the problem's text ("searches
     *     use the index as it is"); null for nothing to add
     * @param log the worker's own logger
     */
    public WorkerHealth(String name, String meanwhile, Logger log) {
        this.name = Objects.requireNonNull(name, "name");
        this.meanwhile = meanwhile;
        this.log = Objects.requireNonNull(log, "log");
    }

    @Override
    public String name() {
        return name.replace(' ', '_');
    }

    /** The current failure's message, or empty while the worker is healthy. */
    public synchronized Optional<String> failure() {
        return failing == null ? Optional.empty() : Optional.of(failing.reason());
    }

    /** A turn went well: the worker is healthy again, if it was not. */
    public void succeeded() {
        Failing recovered;
        synchronized (this) {
            recovered = failing;
            failing = null;
            backoffMillis = FIRST_BACKOFF_MILLIS;
        }
        if (recovered != null) {
            log.info("{} works again after {} failed tries over {} ms", capitalized(), recovered.tries(),
                    System.currentTimeMillis() - recovered.sinceMillis());
        }
    }

    /**
     * A turn failed with {@code failure}.
     *
     * @return how long to wait before the next turn, in milliseconds
     */
    public long failed(Throwable failure) {
        String reason = describe(failure);
        String signature = signature(failure);
        boolean news;
        long backoff;
        int tries;
        synchronized (this) {
            news = failing == null || !failing.signature().equals(signature);
            tries = failing == null ? 1 : failing.tries() + 1;
            failing = new Failing(reason, signature, failing == null ? System.currentTimeMillis() : failing.sinceMillis(),
                    tries);
            backoff = backoffMillis;
            backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
        }
        if (news && failure instanceof Error) {
            log.error("{} failed; retrying in {} ms", capitalized(), backoff, failure);
        } else if (news) {
            log.warn("{} failed, retrying in {} ms (repeats of this failure are logged at DEBUG): {}", capitalized(),
                    backoff, reason);
        } else {
            log.debug("{} failed again (try {}), retrying in {} ms: {}", name, tries, backoff, reason);
        }
        return backoff;
    }

    /** Why the worker is not healthy, since when and what the server does meanwhile; empty while it is. */
    @Override
    public synchronized Optional<String> problem() {
        if (failing == null) {
            return Optional.empty();
        }
        long seconds = (System.currentTimeMillis() - failing.sinceMillis()) / 1000;
        return Optional.of(name + " failing for " + seconds + " s (" + failing.tries()
                + (failing.tries() == 1 ? " try" : " tries") + "): " + failing.reason()
                + (meanwhile == null ? "" : "; " + meanwhile));
    }

    /** The failure's message, with its root cause's where that says more (a pool's timeout says little). */
    static String describe(Throwable failure) {
        String message = message(failure);
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != failure) {
            String cause = message(root);
            if (!message.contains(cause)) {
                message = message + " (" + cause + ")";
            }
        }
        return message;
    }

    private static String message(Throwable t) {
        return t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getName() : t.getMessage();
    }

    private static String signature(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getName() + ": " + message(root).replaceAll("\\d+", "#");
    }

    private String capitalized() {
        return Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }
}
