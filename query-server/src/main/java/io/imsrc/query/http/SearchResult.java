package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * One search result (the original design's shape).
 *
 * @param imageId the image's id: the first 8 bytes of the SHA-256 of its bytes, a positive 63-bit
 *     integer (JavaScript clients: parse it as a BigInt, or use {@code url})
 * @param similarity the cosine of the query and the image's embedding, in [-1, 1]; 1 is identical
 * @param url where the image's bytes are
 */
@OpenApiDescription("A search result; similarity is the cosine in [-1, 1]")
public record SearchResult(long imageId, String category, double similarity, String url) {}
