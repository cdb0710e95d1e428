package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;
import java.util.Map;

/**
 * @param status {@code ok}; {@code starting} until the index is loaded; {@code failing} while a
 *     background worker fails or has stopped (the detail says which and why)
 * @param ready whether the server can do all its work: an index is loaded and every background
 *     worker runs (searches may still be answered from memory while it is not)
 * @param detail why it is not ready; null when it is
 * @param checks each part of the server ({@code index}, {@code index_refresh}, {@code
 *     index_listener}, {@code query_embedder}): {@code ok}, or why not; null from /health/live
 */
@OpenApiDescription("Liveness and readiness")
public record HealthResponse(String status, boolean live, boolean ready, String detail, Map<String, String> checks) {}
