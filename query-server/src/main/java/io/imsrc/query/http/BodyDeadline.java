package io.imsrc.query.http;

import io.javalin.http.Context;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.Request;

/**
 * A deadline for each request body: a client that sends its body slowly (or stops) holds a request
 * thread for at most REQUEST_BODY_TIMEOUT_MS, then gets 408 {@code request_timeout} and the
 * connection is closed.
 *
 * <p>Jetty's idle timeout only bounds the gap between two reads, so a client that sends a byte now
 * and then would never meet it. Here the connection's idle timeout is set, whenever a piece of the
 * body arrives, to the time left until the deadline (never more than its own idle timeout): a
 * stall and a trickle both end there. Jetty
 * then fails the blocked read with an {@link IOException} caused by a {@link TimeoutException},
 * which the multipart reader and {@link ErrorHandlers} answer 408. The connection's own idle
 * timeout comes back once the body has been read, and at the latest when the request ends.
 *
 * <p>Everything runs on the request's own thread (Jetty calls the interceptor on the thread that
 * reads); thread-safe.
 */
public final class BodyDeadline {

    private static final String ORIGINAL_IDLE_TIMEOUT = "imsrc.originalIdleTimeout";
    private static final String TIMEOUT = "imsrc.bodyTimeout";

    private final Duration timeout;

    public BodyDeadline(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the body timeout must be positive, got " + timeout);
        }
        this.timeout = timeout;
    }

    /** Starts the deadline of a request that has a body; call before anything reads it. */
    public void start(Context ctx) {
        if (ctx.req().getContentLengthLong() <= 0 && ctx.header("Transfer-Encoding") == null) {
            return;
        }
        Request base = Request.getBaseRequest(ctx.req());
        if (base == null) {
            return;
        }
        HttpChannel channel = base.getHttpChannel();
        long original = channel.getIdleTimeout();
        ctx.attribute(ORIGINAL_IDLE_TIMEOUT, original);
        ctx.attribute(TIMEOUT, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        channel.setIdleTimeout(idleTimeout(original, timeout.toMillis()));
        base.getHttpInput().addInterceptor(content -> {
            if (content.isEof()) {
                channel.setIdleTimeout(original);
            } else {
                channel.setIdleTimeout(idleTimeout(original, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            }
            return content;
        });
    }

    /**
     * The shorter of the connection's own idle timeout (0: none) and the time left: the deadline
     * only ever shortens how long a stalled client holds the thread.
     */
    static long idleTimeout(long original, long leftMillis) {
        return original > 0 ? Math.min(original, leftMillis) : leftMillis;
    }

    /** Gives the connection its own idle timeout back; call when the request ends. */
    public void end(Context ctx) {
        Long original = ctx.attribute(ORIGINAL_IDLE_TIMEOUT);
        Request base = Request.getBaseRequest(ctx.req());
        if (original != null && base != null) {
            base.getHttpChannel().setIdleTimeout(original);
        }
    }

    /** Whether reading a body failed because its deadline passed. */
    static boolean expired(Throwable failure) {
        boolean io = false;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            io |= t instanceof IOException;
            if (io && t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** The 408 for a request whose body missed its deadline. */
    static ApiException timedOut(Context ctx) {
        Duration timeout = ctx.attribute(TIMEOUT);
        return new ApiException(408, "request_timeout", "the request body did not arrive within "
                + (timeout == null ? "the time allowed" : timeout.toMillis() + " ms")
                + " (REQUEST_BODY_TIMEOUT_MS); send it faster, or in smaller requests");
    }
}
