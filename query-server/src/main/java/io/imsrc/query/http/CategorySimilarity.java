package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/** A category and the cosine of the query with the category's prototype (its images' mean), in [-1, 1]. */
@OpenApiDescription("A category and the cosine of the query with its prototype, in [-1, 1]")
public record CategorySimilarity(String category, double similarity, long imageCount) {}
