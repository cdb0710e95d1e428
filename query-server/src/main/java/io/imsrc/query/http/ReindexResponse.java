package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * @param status {@code rebuilding} (started or joined; follow it on GET /status) or {@code done}
 *     (with {@code wait=true})
 */
@OpenApiDescription("A full rebuild of the index, started or finished")
public record ReindexResponse(String status, String indexType, Long vectors, String builtAt) {}
