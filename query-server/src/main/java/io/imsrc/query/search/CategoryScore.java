package io.imsrc.query.search;

/** A category and the cosine between the query and its prototype. */
public record CategoryScore(String category, double similarity) {}
