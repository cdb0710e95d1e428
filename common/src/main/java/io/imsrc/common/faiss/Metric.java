package io.imsrc.common.faiss;

/**
 * The distance an index ranks by, with FAISS 1.7.3's {@code MetricType} values.
 *
 * <p>imsrc's embeddings are L2-normalised and its indexes use {@link #INNER_PRODUCT}, so
 * a score is the cosine similarity. {@link #L2} scores are squared Euclidean distances
 * (smaller is closer); for unit vectors they rank alike, with cos = 1 - d / 2.
 */
public enum Metric {
    INNER_PRODUCT(FaissLibrary.METRIC_INNER_PRODUCT),
    L2(FaissLibrary.METRIC_L2);

    private final int faissValue;

    Metric(int faissValue) {
        this.faissValue = faissValue;
    }

    int faissValue() {
        return faissValue;
    }

    static Metric fromFaissValue(int value) {
        for (Metric metric : values()) {
            if (metric.faissValue == value) {
                return metric;
            }
        }
        throw new FaissException("unsupported FAISS metric type " + value);
    }

    /** Whether a larger score means a closer vector. */
    public boolean higherIsCloser() {
        return this == INNER_PRODUCT;
    }
}
