package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;

/**
 * Where a search's time went, in milliseconds: checking and decoding the image, embedding it
 * (including any wait for the model), the prototype stage, the index stage, and the whole request
 * as the handler saw it.
 */
@OpenApiDescription("Milliseconds spent in each stage of the search")
public record SearchTimings(double decodeMs, double embedMs, double prototypeMs, double indexMs, double totalMs) {}
