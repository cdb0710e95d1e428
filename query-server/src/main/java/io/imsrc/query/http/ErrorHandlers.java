package io.imsrc.query.http;

import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.image.DecodeBusyException;
import io.imsrc.query.index.IndexNotReadyException;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into the API's error body, {@code {"error": code, "detail": text}}: a refused
 * request into its 4xx, a service that cannot answer now (the index still loading, PostgreSQL or
 * the model too busy, no room to decode) into 503 with Retry-After, and only a bug into 500, logged
 * with its trace. No exception escapes a handler to stop the server.
 *
 * <p>Three layers, so that no answer is an empty or HTML body: {@link #configure} puts Jetty's own
 * answers (requests it refuses before any handler runs) in the same body ({@link JsonErrorHandler})
 * and turns an {@link Error} on a request thread, {@link OutOfMemoryError} included, into a 503
 * after which the server goes on; {@link #install} maps the exceptions handlers throw.
 */
public final class ErrorHandlers {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorHandlers.class);

    /** Written as bytes made in advance: after an OutOfMemoryError, allocating may fail again. */
    private static final byte[] OUT_OF_MEMORY = ("{\"error\":\"out_of_memory\",\"detail\":\"the server ran out of "
            + "memory while answering this request and goes on; try again later\"}").getBytes(StandardCharsets.UTF_8);

    private ErrorHandlers() {}

    /** The parts that must be set when the server is created. */
    public static void configure(JavalinConfig config) {
        JsonErrorHandler jetty = new JsonErrorHandler();
        config.jetty.modifyServer(server -> server.setErrorHandler(jetty));
        config.jetty.modifyServletContextHandler(context -> context.setErrorHandler(jetty));
        config.pvt.javaLangErrorHandler(ErrorHandlers::fatal);
        // A body read that times out: Javalin sets this status itself, before exception handlers.
        config.jetty.timeoutStatus = 408;
    }

    /**
     * Maps the exceptions handlers throw, and gives a body to an error status Javalin set without
     * one (a body read that timed out, which Javalin answers before any exception handler sees
     * it); call before registering other {@code after} handlers.
     */
    public static void install(Javalin app) {
        app.exception(ApiException.class, (e, ctx) -> {
            if (e.status() == 503) {
                ctx.header("Retry-After", "5");
            }
            answer(ctx, e.status(), e.code(), e.detail());
        });
        app.exception(HttpResponseException.class, (e, ctx) -> answer(ctx, e.getStatus(), codeOf(e.getStatus()),
                e.getMessage() == null || e.getMessage().isBlank() ? "HTTP " + e.getStatus() : e.getMessage()
                        + (e.getDetails().isEmpty() ? "" : " " + e.getDetails())));
        app.exception(IndexNotReadyException.class, (e, ctx) -> {
            ctx.header("Retry-After", "5");
            answer(ctx, 503, "index_not_ready", e.getMessage());
        });
        app.exception(TimeoutException.class, (e, ctx) -> {
            ctx.header("Retry-After", "1");
            answer(ctx, 503, "overloaded", "the server is too busy to answer in time; try again");
        });
        app.exception(DecodeBusyException.class, (e, ctx) -> {
            ctx.header("Retry-After", "2");
            answer(ctx, 503, "overloaded", "the server is decoding too many images at once to take this one now ("
                    + e.getMessage() + "); try again");
        });
        app.exception(SQLException.class, (e, ctx) -> {
            LOG.warn("{} {}: PostgreSQL failed: {}", ctx.method(), ctx.path(), e.getMessage());
            ctx.header("Retry-After", "5");
            answer(ctx, 503, "database_unavailable", "PostgreSQL cannot answer now: " + e.getMessage());
        });
        app.exception(EmbeddingException.class, (e, ctx) -> {
            LOG.error("{} {}: embedding failed", ctx.method(), ctx.path(), e);
            if (causedByError(e)) {
                // The model thread met an Error (out of memory, say): the server's state, not this image.
                ctx.header("Retry-After", "5");
                answer(ctx, 503, causedBy(e, OutOfMemoryError.class)
                        ? "out_of_memory" : "server_error", "the model could not run now: " + e.getMessage());
                return;
            }
            answer(ctx, 500, "embedding_failed", "the model failed on this image: " + e.getMessage());
        });
        app.exception(Exception.class, (e, ctx) -> {
            if (BodyDeadline.expired(e)) {
                ApiException timedOut = BodyDeadline.timedOut(ctx);
                answer(ctx, timedOut.status(), timedOut.code(), timedOut.detail());
                return;
            }
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            answer(ctx, 500, "internal_error", "the server failed to answer; the log has the details ("
                    + e.getClass().getSimpleName() + ")");
        });
        app.after(ctx -> {
            int status = ctx.statusCode();
            if (status >= 400 && ctx.resultInputStream() == null) {
                ApiException e = status == 408 ? BodyDeadline.timedOut(ctx)
                        : new ApiException(status, codeOf(status), "HTTP " + status);
                answer(ctx, e.status(), e.code(), e.detail());
            }
        });
    }

    private static boolean causedByError(Throwable t) {
        return causedBy(t, Error.class);
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    static void answer(Context ctx, int status, String code, String detail) {
        // An error is never cached, whatever the handler had set before it failed.
        ctx.header("Cache-Control", "no-store");
        ctx.status(status).json(new ErrorResponse(code, detail));
    }

    /**
     * An {@link Error} that reached Javalin: the request is answered 503 and the thread goes back to
     * the pool. The heap is shared by every request (and, in {@code start}, the job and Kafka), so
     * the request that hit the limit fails, not the process.
     */
    private static void fatal(HttpServletResponse response, Error error) {
        try {
            if (error instanceof OutOfMemoryError) {
                LOG.error("A request ran out of memory; it is answered 503 and the server goes on: {}",
                        error.getMessage());
            } else {
                LOG.error("A request failed with an Error; it is answered 503 and the server goes on", error);
            }
            if (response.isCommitted()) {
                return;
            }
            response.reset();
            response.setStatus(503);
            response.setHeader("Retry-After", "5");
            JsonErrorHandler.write(response, error instanceof OutOfMemoryError ? OUT_OF_MEMORY : JsonErrorHandler.body(
                    503, "the server failed to answer (" + error.getClass().getSimpleName() + ") and goes on; try again"));
        } catch (Throwable t) { // NOPMD: nothing more can be done for this request
            error.addSuppressed(t);
        }
    }

    static String codeOf(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 413 -> "request_too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 429 -> "too_many_requests";
            case 431 -> "headers_too_large";
            case 503 -> "unavailable";
            case 505 -> "http_version_not_supported";
            default -> status >= 500 ? "internal_error" : "bad_request";
        };
    }
}
