package io.imsrc.query.search;

/** One result: an image, its category and its cosine with the query, in [-1, 1]. */
public record Hit(long imageId, String category, double similarity) {}
