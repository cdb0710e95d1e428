package io.imsrc.query.testing;

import io.imsrc.query.search.Hit;
import io.imsrc.query.store.VectorRow;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** The oracle: cosine similarity against every stored vector, written plainly in Java. */
public final class BruteForce {

    private BruteForce() {}

    /** The best {@code limit} of the given categories' rows after {@code offset}, ties by id. */
    public static List<Hit> search(Map<String, List<VectorRow>> rows, Collection<String> categories, float[] query,
            int offset, int limit) {
        List<Hit> all = new ArrayList<>();
        for (String category : categories) {
            for (VectorRow row : rows.getOrDefault(category, List.of())) {
                double dot = 0;
                for (int d = 0; d < query.length; d++) {
                    dot += (double) query[d] * row.vector()[d];
                }
                all.add(new Hit(row.imageId(), category, dot));
            }
        }
        all.sort(Comparator.comparingDouble(Hit::similarity).reversed().thenComparingLong(Hit::imageId));
        return all.stream().skip(offset).limit(limit).toList();
    }
}
