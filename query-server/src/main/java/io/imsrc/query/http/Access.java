package io.imsrc.query.http;

import io.javalin.http.Context;
import io.javalin.security.RouteRole;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Set;

/**
 * Who may call a route. With API_TOKEN set, {@link #WRITE} routes (uploads, admin) need it; with
 * SEARCH_REQUIRES_TOKEN too, {@link #READ} routes (searches, images, status) need it as well;
 * {@link #OPEN} routes (health, metrics, the API documentation) never do. The token comes as
 * {@code Authorization: Bearer <token>} or {@code X-API-Token: <token>} and is compared in
 * constant time.
 */
public enum Access implements RouteRole {
    OPEN,
    READ,
    WRITE;

    /** Checks a request against its route's roles before the handler runs. */
    public static void check(Context ctx, String token, boolean readNeedsToken) {
        if (token == null) {
            return;
        }
        Set<RouteRole> roles = ctx.routeRoles();
        boolean needed = roles.contains(WRITE) || (readNeedsToken && roles.contains(READ));
        if (!needed) {
            return;
        }
        String given = presented(ctx);
        if (given == null) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "unauthorized",
                    "this endpoint needs the API token: send 'Authorization: Bearer <token>' or 'X-API-Token: <token>'");
        }
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            throw new ApiException(401, "invalid_token", "the API token does not match");
        }
    }

    private static String presented(Context ctx) {
        String authorization = ctx.header("Authorization");
        if (authorization != null && authorization.toLowerCase(Locale.ROOT).startsWith("bearer ")) {
            return authorization.substring(7).strip();
        }
        String header = ctx.header("X-API-Token");
        return header == null ? null : header.strip();
    }
}
