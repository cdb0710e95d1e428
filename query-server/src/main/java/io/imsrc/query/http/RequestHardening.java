package io.imsrc.query.http;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.util.function.Consumer;

/**
 * What stands between every request and a handler, installed in one place so that the server and
 * the tests of it run the same guards in the same order: JSON for every error, Jetty's included
 * ({@link ErrorHandlers}, {@link JsonErrorHandler}); refused paths and methods ({@link
 * RequestGuards}); the body deadline ({@link BodyDeadline}); writes from other sites' pages refused
 * ({@link BrowserOrigins}), then the caller's own access check.
 */
public final class RequestHardening {

    private RequestHardening() {}

    /** The part that lives in Javalin's configuration; call inside {@code Javalin.create}. */
    public static void configure(JavalinConfig config) {
        ErrorHandlers.configure(config);
        RequestGuards.configure(config);
    }

    /**
     * The part that lives on the app; call before any route is added.
     *
     * @param before runs first on every request (the metrics' start)
     * @param access the access check of a matched route, after the origin check
     * @param after runs last on every request (the metrics' end)
     */
    public static void install(Javalin app, BodyDeadline deadline, BrowserOrigins origins, Consumer<Context> before,
            Consumer<Context> access, Consumer<Context> after) {
        ErrorHandlers.install(app);
        app.before(before::accept);
        app.before(deadline::start);
        app.beforeMatched(ctx -> {
            if (ctx.routeRoles().contains(Access.WRITE)) {
                origins.check(ctx);
            }
            access.accept(ctx);
        });
        app.after(deadline::end);
        app.after(after::accept);
    }
}
