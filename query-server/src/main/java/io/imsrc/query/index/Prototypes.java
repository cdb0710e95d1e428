package io.imsrc.query.index;

import io.imsrc.common.embed.EmbeddingMath;
import io.imsrc.query.store.PrototypeRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The category prototypes the first search stage ranks against: each category's mean vector,
 * L2-normalised here so that a dot product with a query is their cosine. Immutable; replaced
 * whole when the ingest job updates a prototype.
 */
public final class Prototypes {

    /** One category's prototype. */
    public record Entry(String category, float[] unitMean, long imageCount, long updatedAtMillis) {}

    private final List<Entry> entries;

    private Prototypes(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static Prototypes of(List<PrototypeRecord> records) {
        List<Entry> entries = new ArrayList<>(records.size());
        for (PrototypeRecord r : records) {
            entries.add(new Entry(r.category(), EmbeddingMath.l2Normalize(r.mean()), r.imageCount(), r.updatedAtMillis()));
        }
        return new Prototypes(entries);
    }

    public static Prototypes empty() {
        return new Prototypes(List.of());
    }

    public List<Entry> entries() {
        return entries;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The entry of {@code category}, or {@code null}. */
    public Entry get(String category) {
        Objects.requireNonNull(category, "category");
        for (Entry e : entries) {
            if (e.category().equals(category)) {
                return e;
            }
        }
        return null;
    }
}
