package io.imsrc.query.testing;

import io.imsrc.query.search.Hit;
import io.imsrc.query.store.VectorRow;
import io.imsrc.testing.ExactSearch;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestVectors;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shared test vectors and search oracle in the query server's own types ({@link VectorRow},
 * {@link Hit}), and their writing into a catalog as the ingest job makes them (vector_seq is
 * PostgreSQL's own, so the rows' seq fields are ignored on write).
 */
public final class VectorRows {

    private VectorRows() {}

    /** {@link TestVectors#clustered} as rows, numbered 1, 2, ... in order. */
    public static Map<String, List<VectorRow>> clustered(int categories, int perCategory, int dimension, long seed) {
        Map<String, List<VectorRow>> rows = new LinkedHashMap<>();
        long seq = 1;
        for (var cluster : TestVectors.clustered(categories, perCategory, dimension, seed).entrySet()) {
            List<VectorRow> list = new ArrayList<>();
            for (TestVectors.Labelled v : cluster.getValue()) {
                list.add(new VectorRow(v.id(), v.category(), v.vector(), seq++, 0));
            }
            rows.put(cluster.getKey(), list);
        }
        return rows;
    }

    /** The mean of each category's vectors, as the ingest job stores it. */
    public static Map<String, float[]> means(Map<String, List<VectorRow>> rows) {
        Map<String, float[]> means = new LinkedHashMap<>();
        rows.forEach((category, list) -> means.put(category, TestVectors.mean(list.stream().map(VectorRow::vector).toList())));
        return means;
    }

    /**
     * The oracle: the best {@code limit} of the given categories' rows after {@code offset} by cosine
     * similarity, ties by id.
     */
    public static List<Hit> exactSearch(Map<String, List<VectorRow>> rows, Collection<String> categories, float[] query,
            int offset, int limit) {
        List<VectorRow> candidates = new ArrayList<>();
        for (String category : categories) {
            candidates.addAll(rows.getOrDefault(category, List.of()));
        }
        float[] base = new float[candidates.size() * query.length];
        long[] ids = new long[candidates.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = candidates.get(i).imageId();
            System.arraycopy(candidates.get(i).vector(), 0, base, i * query.length, query.length);
        }
        return ExactSearch.rank(base, ids, query, ExactSearch.Measure.INNER_PRODUCT).stream()
                .skip(offset)
                .limit(limit)
                .map(h -> new Hit(h.id(), candidates.get(h.row()).category(), h.score()))
                .toList();
    }

    /** Writes rows of all categories and commits. */
    public static void insert(TestDatabase catalog, Map<String, List<VectorRow>> rows, String modelId)
            throws SQLException {
        List<VectorRow> all = new ArrayList<>();
        rows.values().forEach(all::addAll);
        try (Connection c = catalog.connect()) {
            c.setAutoCommit(false);
            insert(c, all, modelId);
            c.commit();
        }
    }

    /** Writes rows on {@code c} without committing: the caller decides when they become visible. */
    public static void insert(Connection c, Collection<VectorRow> rows, String modelId) throws SQLException {
        try (PreparedStatement category = c.prepareStatement(
                        "INSERT INTO categories (category_name) VALUES (?) ON CONFLICT (category_name) DO NOTHING");
                PreparedStatement image = c.prepareStatement("""
                        INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                            original_name, category_assignment)
                        SELECT ?, category_id, ?, 'png', 1, 1, sha256(?), 'folder', ?, 'label'
                        FROM categories WHERE category_name = ?
                        ON CONFLICT DO NOTHING""");
                PreparedStatement vector = c.prepareStatement(
                        "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, ?, ?)")) {
            for (VectorRow row : rows) {
                category.setString(1, row.category());
                category.executeUpdate();
                byte[] bytes = Long.toString(row.imageId()).getBytes(StandardCharsets.US_ASCII);
                image.setLong(1, row.imageId());
                image.setBytes(2, bytes);
                image.setBytes(3, bytes);
                image.setString(4, row.imageId() + ".png");
                image.setString(5, row.category());
                image.executeUpdate();
                vector.setLong(1, row.imageId());
                vector.setString(2, modelId);
                vector.setArray(3, TestDatabase.floatArray(c, row.vector()));
                vector.executeUpdate();
            }
        }
    }
}
