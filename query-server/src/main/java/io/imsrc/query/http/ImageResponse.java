package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * An image and where it stands.
 *
 * @param state {@code queued} (uploaded, not yet written by the ingest job), {@code indexed}
 *     (stored with a vector of the server's model), {@code stored} (stored, no vector of this
 *     model yet) or {@code rejected} (with {@code reason})
 * @param reason why an upload was rejected: a stable code such as {@code NO_CATEGORY}, or null
 * @param reasonDetail the ingest job's explanation of that rejection for a person, or null
 * @param searchable whether the live index holds the image now
 * @param categoryAssignment {@code label} (given by the source or uploader) or {@code predicted}
 * @param categoryConfidence the model's confidence in a predicted category, else null
 */
@OpenApiDescription("An image's metadata and state")
public record ImageResponse(
        long imageId,
        String state,
        String reason,
        String reasonDetail,
        boolean searchable,
        String category,
        String categoryAssignment,
        Float categoryConfidence,
        String format,
        Integer width,
        Integer height,
        String source,
        String originalName,
        String createdAt,
        String receivedAt,
        String updatedAt,
        String contentUrl,
        String similarUrl) {}
