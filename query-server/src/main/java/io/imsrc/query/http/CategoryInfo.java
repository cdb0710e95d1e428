package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * A category for GET /categories.
 *
 * @param imageCount images stored in the category
 * @param vectorCount those with a vector of the server's model
 * @param indexedCount those the live index holds
 * @param prototype the category's prototype, or null before its first vector
 * @param representative the image nearest the prototype, or null
 */
@OpenApiDescription("A category with its counts, prototype freshness and representative image")
public record CategoryInfo(
        String category, long imageCount, long vectorCount, long indexedCount, PrototypeInfo prototype,
        Representative representative) {

    /**
     * @param imageCount how many vectors the prototype averages
     * @param current whether it averages every vector of the category that PostgreSQL has
     */
    @OpenApiDescription("How fresh a prototype is")
    public record PrototypeInfo(long imageCount, String updatedAt, double ageSeconds, boolean current) {}

    /** @param similarity the cosine of the image and the prototype */
    @OpenApiDescription("The image nearest a category's prototype")
    public record Representative(long imageId, double similarity, String url) {}
}
