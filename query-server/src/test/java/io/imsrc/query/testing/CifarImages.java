package io.imsrc.query.testing;

import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.record.ImageId;
import io.imsrc.query.store.VectorRow;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Real CIFAR-10 images (read by the shared {@link CifarData}), embedded with the real model, and
 * their writing into a catalog the way the ingest job writes them (image bytes, vector, prototype =
 * mean).
 */
public final class CifarImages {

    public static final List<String> CLASSES = CifarData.CLASSES;

    /** An image with its category and its embedding by the test's model. */
    public record Image(long imageId, String category, byte[] bytes, float[] vector, String name) {
        public VectorRow row() {
            return new VectorRow(imageId, category, vector, 0, 0);
        }
    }

    private CifarImages() {}

    /** The images {@code firstIndex..firstIndex+perClass-1} of each class of a split ({@code train} or {@code test}), embedded. */
    public static List<Image> load(String split, int firstIndex, int perClass, Embedder embedder) throws Exception {
        List<CifarData.Sample> samples = CifarData.numbered(split, firstIndex, perClass);
        List<DecodedImage> decoded = new ArrayList<>();
        for (CifarData.Sample sample : samples) {
            decoded.add(ImageDecoder.decode(sample.bytes()));
        }
        List<Embedding> embeddings = embedder.embedImages(decoded);
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            CifarData.Sample sample = samples.get(i);
            images.add(new Image(ImageId.of(sample.bytes()), sample.category(), sample.bytes(),
                    embeddings.get(i).vector(), sample.path()));
        }
        return images;
    }

    /** Writes the images with their vectors, and each category's prototype, as the ingest job does. */
    public static void store(TestDatabase catalog, List<Image> images, String modelId) throws Exception {
        try (Connection c = catalog.connect()) {
            c.setAutoCommit(false);
            insert(c, images, modelId, true);
            c.commit();
        }
        Map<String, List<VectorRow>> byCategory = new LinkedHashMap<>();
        for (Image image : images) {
            byCategory.computeIfAbsent(image.category(), k -> new ArrayList<>()).add(image.row());
        }
        Map<String, Integer> counts = new HashMap<>();
        byCategory.forEach((k, v) -> counts.put(k, v.size()));
        catalog.writePrototypes(VectorRows.means(byCategory), counts, modelId);
    }

    /** Writes images, and their vectors when {@code withVectors}, on {@code c} without committing. */
    public static void insert(Connection c, List<Image> images, String modelId, boolean withVectors) throws Exception {
        try (PreparedStatement image = c.prepareStatement("""
                        INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                            original_name, category_assignment)
                        SELECT ?, category_id, ?, 'jpeg', 32, 32, sha256(?), 'cifar10', ?, 'label'
                        FROM categories WHERE category_name = ?""");
                PreparedStatement vector = c.prepareStatement(
                        "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, ?, ?)")) {
            for (Image i : images) {
                image.setLong(1, i.imageId());
                image.setBytes(2, i.bytes());
                image.setBytes(3, i.bytes());
                image.setString(4, i.name().substring(i.name().lastIndexOf('/') + 1));
                image.setString(5, i.category());
                image.executeUpdate();
                if (withVectors) {
                    vector.setLong(1, i.imageId());
                    vector.setString(2, modelId);
                    vector.setArray(3, TestDatabase.floatArray(c, i.vector()));
                    vector.executeUpdate();
                }
            }
        }
    }
}
