package io.imsrc.query.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own error answers in the API's error body, {@code {"error": code, "detail": text}},
 * instead of its HTML pages.
 *
 * <p>Jetty answers some requests before any Javalin handler runs: a request line or header it
 * cannot parse, an ambiguous or undecodable path ({@code /app/%2e%2e/...}), a URI over 8 KiB
 * (414), headers over 8 KiB (431), a bad or repeated Content-Length. It builds those bodies with
 * {@link #badMessageError}; errors raised inside the servlet context (a response's {@code
 * sendError}, a failure that escapes the servlet) go through {@link #generateAcceptableResponse}.
 * Both are overridden; the status is Jetty's, the reason Jetty's words. Stateless and thread-safe.
 */
final class JsonErrorHandler extends ErrorHandler {

    private static final ObjectMapper JSON = ApiJson.mapper();

    JsonErrorHandler() {
        setShowStacks(false);
        setShowServlet(false);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        fields.put(HttpHeader.CACHE_CONTROL, "no-store");
        return ByteBuffer.wrap(body(status, "the request cannot be read: " + describe(status, reason)));
    }

    @Override
    protected void generateAcceptableResponse(Request baseRequest, HttpServletRequest request,
            HttpServletResponse response, int code, String message) throws IOException {
        baseRequest.setHandled(true);
        write(response, body(code, describe(code, message)));
    }

    /**
     * Writes an error body made by {@link #body} as the answer, for the places that answer below
     * Javalin (Jetty's errors, the request guards, an Error on a request thread); the status and
     * any other header are the caller's.
     */
    static void write(HttpServletResponse response, byte[] body) throws IOException {
        response.setContentType("application/json");
        response.setHeader(HttpHeader.CACHE_CONTROL.asString(), "no-store");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    static byte[] body(int status, String detail) {
        return body(status, ErrorHandlers.codeOf(status), detail);
    }

    static byte[] body(int status, String code, String detail) {
        try {
            return JSON.writeValueAsBytes(new ErrorResponse(code, detail));
        } catch (JsonProcessingException e) {
            return ("{\"error\":\"" + code + "\",\"detail\":\"HTTP " + status + "\"}").getBytes(StandardCharsets.UTF_8);
        }
    }

    private static String describe(int status, String reason) {
        String what = switch (status) {
            case 413 -> "the request is larger than this server accepts";
            case 414 -> "the URI is longer than 8192 bytes";
            case 431 -> "the request headers are larger than 8192 bytes";
            default -> null;
        };
        if (reason == null || reason.isBlank()) {
            return what == null ? "HTTP " + status : what;
        }
        return what == null ? reason : what + " (" + reason + ")";
    }
}
