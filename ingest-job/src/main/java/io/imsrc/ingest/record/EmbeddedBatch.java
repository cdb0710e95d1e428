package io.imsrc.ingest.record;

import java.util.List;
import java.util.Objects;

/**
 * The images of one forward pass, written to PostgreSQL in one statement.
 *
 * @param images at least one image, all of the same embedding dimension
 */
public record EmbeddedBatch(List<EmbeddedImage> images) {

    public EmbeddedBatch {
        Objects.requireNonNull(images, "images");
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a batch holds at least one image");
        }
    }

    public int size() {
        return images.size();
    }

    public int dimension() {
        return images.get(0).vector().length;
    }
}
