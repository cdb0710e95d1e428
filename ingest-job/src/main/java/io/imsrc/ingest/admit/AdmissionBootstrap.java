package io.imsrc.ingest.admit;

import java.io.Serializable;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * Where a fresh job learns which images are already stored: every image's id, hash and category
 * and, when it has one, its vector of the job's model. The ingest job reads PostgreSQL ({@link
 * JdbcAdmissionBootstrap}); operator tests hand in a fixed list.
 */
public interface AdmissionBootstrap extends Serializable {

    /** One stored image. {@code vector} is {@code null} when the image has no vector of this model. */
    record StoredImage(long imageId, byte[] sha256, String category, float[] vector) {}

    /**
     * The key groups {@code first..last} (inclusive) of {@code maxParallelism}: the share of the
     * image ids one admission subtask keeps, since the stream is keyed by image id and Flink puts
     * a key in key group {@link KeyGroupRangeAssignment#assignToKeyGroup}.
     */
    record KeyGroups(int maxParallelism, int first, int last) implements Serializable {
        public KeyGroups {
            if (maxParallelism < 1 || first < 0 || last < first || last >= maxParallelism) {
                throw new IllegalArgumentException("key groups " + first + ".." + last + " of " + maxParallelism);
            }
        }

        /** Every key group: the share of a subtask that runs alone. */
        public static KeyGroups all(int maxParallelism) {
            return new KeyGroups(maxParallelism, 0, maxParallelism - 1);
        }

        public boolean isAll() {
            return first == 0 && last == maxParallelism - 1;
        }

        /** Whether Flink puts the image with this id in one of these key groups. */
        public boolean contains(long imageId) {
            int group = KeyGroupRangeAssignment.assignToKeyGroup(imageId, maxParallelism);
            return group >= first && group <= last;
        }
    }

    /** Receives the stored images one by one. */
    @FunctionalInterface
    interface Visitor {
        void visit(StoredImage image) throws Exception;
    }

    /**
     * Calls {@code visitor} once for every stored image of {@code share}, in any order. It may pass
     * images of other key groups too (a source that cannot select them), which the caller skips.
     */
    void forEachStoredImage(KeyGroups share, Visitor visitor) throws Exception;

    /** Nothing stored: for an empty database and for tests that start from nothing. */
    static AdmissionBootstrap none() {
        return (share, visitor) -> {};
    }
}
