package io.imsrc.query.search;

import java.util.List;

/**
 * What a search found.
 *
 * @param hits the page of results, best first
 * @param ranking every candidate category by prototype similarity, best first (empty when
 *     prototypes were not used)
 * @param searched the categories whose images were searched
 * @param prototypeNanos time of the first stage
 * @param indexNanos time of the second stage
 */
public record SearchOutcome(
        List<Hit> hits, List<CategoryScore> ranking, List<String> searched, long prototypeNanos, long indexNanos) {}
