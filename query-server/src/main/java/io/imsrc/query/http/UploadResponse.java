package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;
import java.util.List;

/**
 * The answer to POST /upload: every accepted image, in request order; for a request with one
 * file its id and status URL are repeated at the top.
 */
@OpenApiDescription("Accepted uploads; image_id and status_url are set when one file was sent")
public record UploadResponse(Long imageId, String status, String statusUrl, List<UploadedImage> uploads) {}
