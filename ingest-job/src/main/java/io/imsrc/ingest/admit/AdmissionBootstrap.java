package io.imsrc.ingest.admit;

import java.io.Serializable;

/**
 * Where a fresh job learns which images are already stored: every image's id, hash and category
 * and, when it has one, its vector of the job's model. The ingest job reads PostgreSQL ({@link
 * JdbcAdmissionBootstrap}); operator tests hand in a fixed list.
 */
public interface AdmissionBootstrap extends Serializable {

    /** One stored image. {@code vector} is {@code null} when the image has no vector of this model. */
    record StoredImage(long imageId, byte[] sha256, String category, float[] vector) {}

    /** Receives the stored images one by one. */
    @FunctionalInterface
    interface Visitor {
        void visit(StoredImage image) throws Exception;
    }

    /** Calls {@code visitor} once for every stored image, in any order. */
    void forEachStoredImage(Visitor visitor) throws Exception;

    /** Nothing stored: for an empty database and for tests that start from nothing. */
    static AdmissionBootstrap none() {
        return visitor -> {};
    }
}
