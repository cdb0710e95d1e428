package io.imsrc.query.http;

import io.javalin.http.Context;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Refuses writes (uploads, /admin) that a browser sends on behalf of another site's page, so that a
 * page on the web cannot make a visitor's browser upload images to, or rebuild the index of, an
 * imsrc it can reach (a cross-site request forgery: a form or {@code fetch} POST needs no CORS
 * permission to be sent, only to be read).
 *
 * <p>Browsers say where a request comes from: {@code Sec-Fetch-Site} (same-origin, same-site,
 * cross-site, none) and {@code Origin}. A write is allowed when
 *
 * <ul>
 *   <li>neither header is present: not a browser (curl, scripts, the tests), which CSRF cannot
 *       drive;
 *   <li>{@code Sec-Fetch-Site} is {@code same-origin} or {@code none} (typed by the user), as for
 *       the /app page;
 *   <li>without {@code Sec-Fetch-Site} (older browsers), {@code Origin}'s host and port are the
 *       request's {@code Host};
 *   <li>{@code Origin} is one of API_ALLOWED_ORIGINS ({@code *} allows every origin).
 * </ul>
 *
 * <p>Everything else is 403 {@code cross_origin_refused}. Immutable, thread-safe.
 */
public final class BrowserOrigins {

    private final Set<String> allowed;
    private final boolean allowAll;

    /** @param allowed origins such as {@code https://tools.example.org}, or {@code *} */
    public BrowserOrigins(List<String> allowed) {
        this.allowAll = allowed.contains("*");
        this.allowed = allowed.stream().map(BrowserOrigins::normalise).collect(Collectors.toUnmodifiableSet());
    }

    /** Throws 403 when the write comes from another site's page. */
    public void check(Context ctx) {
        String site = ctx.header("Sec-Fetch-Site");
        String origin = ctx.header("Origin");
        if (site == null && origin == null) {
            return;
        }
        if (site != null) {
            String s = site.strip().toLowerCase(Locale.ROOT);
            if (s.equals("same-origin") || s.equals("none")) {
                return;
            }
        } else if (sameHost(origin, ctx.header("Host"))) {
            return;
        }
        if (origin != null && (allowAll || allowed.contains(normalise(origin)))) {
            return;
        }
        throw new ApiException(403, "cross_origin_refused", "writes are not accepted from another site's page ("
                + "Origin " + shown(origin) + ", Sec-Fetch-Site " + shown(site) + "); use the /app page, a client that "
                + "is not a browser, or list the origin in API_ALLOWED_ORIGINS");
    }

    private static boolean sameHost(String origin, String host) {
        if (host == null || origin.equals("null")) {
            return false;
        }
        try {
            URI uri = new URI(origin.strip());
            return uri.getRawAuthority() != null && uri.getRawAuthority().equalsIgnoreCase(host.strip());
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /** An origin compared without case and without a trailing slash. */
    static String normalise(String origin) {
        String o = origin.strip().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }

    private static String shown(String header) {
        if (header == null) {
            return "absent";
        }
        String printable = header.replaceAll("[^\\x20-\\x7E]", "?");
        return "'" + (printable.length() > 100 ? printable.substring(0, 100) + "..." : printable) + "'";
    }
}
