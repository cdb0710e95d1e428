package io.imsrc.query.store;

import java.util.Objects;

/**
 * One stored vector of the server's model, with what the index needs beside it.
 *
 * @param imageId the image's id, which is also its FAISS id
 * @param category the category the image is stored under
 * @param vector the L2-normalised embedding
 * @param seq the row's vectors.vector_seq (insertion order, not commit order)
 * @param createdAtMillis when the row was written
 */
public record VectorRow(long imageId, String category, float[] vector, long seq, long createdAtMillis) {

    public VectorRow {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(vector, "vector");
    }
}
