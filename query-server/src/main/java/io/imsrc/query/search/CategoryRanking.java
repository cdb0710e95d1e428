package io.imsrc.query.search;

import io.imsrc.query.index.Prototypes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/** The first search stage: categories ranked by the cosine of the query with their prototypes. Pure. */
public final class CategoryRanking {

    private CategoryRanking() {}

    /**
     * Every category with a prototype (only those in {@code restrictTo} unless it is empty), best
     * first; ties break by name.
     *
     * @param query a unit vector
     */
    public static List<CategoryScore> rank(float[] query, Prototypes prototypes, Set<String> restrictTo) {
        List<CategoryScore> scores = new ArrayList<>();
        for (Prototypes.Entry e : prototypes.entries()) {
            if (!restrictTo.isEmpty() && !restrictTo.contains(e.category())) {
                continue;
            }
            scores.add(new CategoryScore(e.category(), dot(query, e.unitMean())));
        }
        scores.sort(Comparator.comparingDouble(CategoryScore::similarity).reversed()
                .thenComparing(CategoryScore::category));
        return scores;
    }

    static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("the query has " + a.length + " dimensions, the prototypes " + b.length);
        }
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }
}
