package io.imsrc.query.http;

import io.imsrc.query.index.CategoryIndex;
import io.imsrc.query.index.IndexSnapshot;
import io.imsrc.query.index.Prototypes;
import io.imsrc.query.search.Cosine;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The image nearest each category's prototype, for GET /categories. Finding it searches the
 * category's whole index (with a flat index, a dot product per image: 120 ms for ten categories at
 * a million images), so each one found is kept until its category's index grows or is replaced, or
 * its prototype changes, and /categories costs a lookup per category meanwhile.
 *
 * <p>An index only ever grows in place (a vector is never removed from a live generation; a rebuild
 * is a new generation of new {@link CategoryIndex} objects), so the index object, its size and the
 * prototype entry (replaced whole on every change) decide the answer. A retired index is only
 * compared by identity here, never searched.
 *
 * <p>Thread-safe: requests at once may both search on a miss, and either answer is kept.
 */
final class CategoryRepresentatives {

    private record Found(CategoryIndex index, long size, Prototypes.Entry prototype,
            CategoryInfo.Representative representative) {}

    private final Map<String, Found> found = new ConcurrentHashMap<>();

    /** The representative of {@code category} in {@code snapshot}; null without an index, images or prototype. */
    CategoryInfo.Representative of(IndexSnapshot snapshot, String category) {
        if (snapshot == null) {
            return null;
        }
        Prototypes.Entry prototype = snapshot.prototypes().get(category);
        CategoryIndex images = snapshot.category(category);
        if (prototype == null || images == null) {
            return null;
        }
        long size = images.size();
        if (size == 0) {
            return null;
        }
        Found known = found.get(category);
        if (known != null && known.index() == images && known.size() == size && known.prototype() == prototype) {
            return known.representative();
        }
        var nearest = images.search(prototype.unitMean(), 1);
        CategoryInfo.Representative representative = null;
        if (nearest.count(0) > 0) {
            long id = nearest.id(0, 0);
            representative = new CategoryInfo.Representative(id, Cosine.clamp(nearest.score(0, 0)), ImageApi.contentUrl(id));
        }
        found.put(category, new Found(images, size, prototype, representative));
        return representative;
    }
}
