package io.imsrc.query.http;

import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.query.index.IndexNotReadyException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.sql.SQLException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into the API's error body, {@code {"error": code, "detail": text}}: a refused
 * request into its 4xx, a service that cannot answer now (the index still loading, PostgreSQL or
 * the model too busy) into 503 with Retry-After, and only a bug into 500, logged with its trace. No
 * exception escapes a handler to stop the server.
 */
public final class ErrorHandlers {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorHandlers.class);

    private ErrorHandlers() {}

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
        app.exception(SQLException.class, (e, ctx) -> {
            LOG.warn("{} {}: PostgreSQL failed: {}", ctx.method(), ctx.path(), e.getMessage());
            ctx.header("Retry-After", "5");
            answer(ctx, 503, "database_unavailable", "PostgreSQL cannot answer now: " + e.getMessage());
        });
        app.exception(EmbeddingException.class, (e, ctx) -> {
            LOG.error("{} {}: embedding failed", ctx.method(), ctx.path(), e);
            answer(ctx, 500, "embedding_failed", "the model failed on this image: " + e.getMessage());
        });
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            answer(ctx, 500, "internal_error", "the server failed to answer; the log has the details ("
                    + e.getClass().getSimpleName() + ")");
        });
    }

    static void answer(Context ctx, int status, String code, String detail) {
        ctx.status(status).json(new ErrorResponse(code, detail));
    }

    private static String codeOf(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 413 -> "request_too_large";
            case 415 -> "unsupported_media_type";
            case 429 -> "too_many_requests";
            case 503 -> "unavailable";
            default -> status >= 500 ? "internal_error" : "bad_request";
        };
    }
}
