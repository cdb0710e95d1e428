package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * One accepted image of an upload.
 *
 * @param status {@code queued} (published for the ingest job) or {@code stored} (these bytes are
 *     stored already; nothing was published)
 * @param statusUrl GET it to follow the upload: queued, indexed, or rejected with the reason
 */
@OpenApiDescription("An accepted upload and where to follow it")
public record UploadedImage(
        long imageId, String status, String statusUrl, String fileName, String format, int width, int height,
        long bytes) {}
