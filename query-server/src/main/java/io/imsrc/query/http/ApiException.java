package io.imsrc.query.http;

import java.util.Objects;

/**
 * A request the server refuses, with the HTTP status, a stable machine-readable code and a
 * sentence for a person. {@link ErrorHandlers} turns it into {@code {"error": code, "detail": text}}.
 */
public final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;

    public ApiException(int status, String code, String detail) {
        super(Objects.requireNonNull(detail, "detail"));
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("an error status is 4xx or 5xx, got " + status);
        }
        this.status = status;
        this.code = Objects.requireNonNull(code, "code");
    }

    public static ApiException badRequest(String code, String detail) {
        return new ApiException(400, code, detail);
    }

    public static ApiException notFound(String code, String detail) {
        return new ApiException(404, code, detail);
    }

    public static ApiException unavailable(String code, String detail) {
        return new ApiException(503, code, detail);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String detail() {
        return getMessage();
    }
}
