package io.imsrc.query.http;

import io.javalin.config.JavalinConfig;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;
import org.eclipse.jetty.servlet.FilterHolder;

/**
 * Refuses requests that no route should see, before Javalin looks at them: a method this API does
 * not know (405 {@code method_not_allowed}, where Javalin would say 404) and a path with a "." or
 * ".." segment however it is written ({@code /app/%2e}, {@code /app/..;/}): 400 {@code
 * invalid_path}.
 *
 * <p>Paths are never resolved against a file system here, but Jetty's resource handler, which
 * serves /app, throws on such a path while Javalin works out which roles the request needs, before
 * any of its handlers runs; the exception escaped as an empty 500 with a stack trace in the log. So
 * this is a servlet filter in front of Javalin. Stateless, thread-safe.
 */
public final class RequestGuards implements Filter {

    private static final Set<String> METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT");

    /** Puts the filter in front of Javalin's servlet. */
    public static void configure(JavalinConfig config) {
        config.jetty.modifyServletContextHandler(context -> context.addFilter(new FilterHolder(new RequestGuards()),
                "/*", EnumSet.of(DispatcherType.REQUEST)));
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        HttpServletResponse out = (HttpServletResponse) response;
        if (!METHODS.contains(http.getMethod())) {
            refuse(out, 405, "method_not_allowed", "this API answers GET and POST, not " + printable(http.getMethod()));
            return;
        }
        if (hasDotSegment(http.getRequestURI())) {
            refuse(out, 400, "invalid_path", "the path has a '.' or '..' segment (" + printable(http.getRequestURI())
                    + "); paths are taken as written, never resolved");
            return;
        }
        chain.doFilter(request, response);
    }

    /**
     * Whether the path as sent has a "." or ".." segment, dots escaped or not, with path parameters
     * or not. The raw path is what matters: Jetty hands the servlet a canonical path without the
     * dots, but the static files are looked up by the path as sent.
     */
    static boolean hasDotSegment(String rawPath) {
        if (rawPath == null) {
            return false;
        }
        for (String segment : rawPath.split("/", -1)) {
            int parameters = segment.indexOf(';');
            String name = (parameters < 0 ? segment : segment.substring(0, parameters)).replace("%2e", ".")
                    .replace("%2E", ".");
            if (name.equals(".") || name.equals("..")) {
                return true;
            }
        }
        return false;
    }

    private static void refuse(HttpServletResponse response, int status, String code, String detail)
            throws IOException {
        response.setStatus(status);
        JsonErrorHandler.write(response, JsonErrorHandler.body(status, code, detail));
    }

    private static String printable(String text) {
        String shown = text == null ? "" : text.replaceAll("[^\\x21-\\x7E]", "?");
        return shown.length() > 100 ? shown.substring(0, 100) + "..." : shown;
    }
}
