package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * The body of every error answer.
 *
 * @param error a stable code a program can test (for example {@code not_an_image}, {@code
 *     limit_out_of_range}, {@code index_not_ready})
 * @param detail what went wrong and what is accepted, for a person
 */
@OpenApiDescription("An error: a stable code and a sentence for a person")
public record ErrorResponse(String error, String detail) {}
