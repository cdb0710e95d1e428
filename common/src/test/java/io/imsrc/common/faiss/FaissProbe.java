package io.imsrc.common.faiss;

/**
 * Run in a JVM of its own by {@link NativeLibraryCacheITCase}: loads the FAISS bindings and calls
 * the newest of them, printing "faiss ok" when all went well.
 */
public final class FaissProbe {
    private FaissProbe() {}

    public static void main(String[] args) {
        float[] centroids = {1, 0, 0, 1};
        try (FaissIndex index = FaissIndex.create(2, "IVF2,Flat", Metric.INNER_PRODUCT)) {
            index.trainWithCentroids(centroids, centroids);
            System.out.println(index.listCentroids().length == 4 ? "faiss ok" : "faiss wrong");
        }
    }
}
