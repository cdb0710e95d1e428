package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * @param status {@code ok}, or {@code starting} until the index is loaded
 * @param ready whether searches are answered (an index is loaded)
 */
@OpenApiDescription("Liveness and readiness")
public record HealthResponse(String status, boolean live, boolean ready, String detail) {}
