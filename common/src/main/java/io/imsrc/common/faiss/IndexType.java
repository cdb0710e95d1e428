package io.imsrc.common.faiss;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The index kinds FAISS_INDEX_TYPE selects, and the FAISS factory description each builds for a
 * category of a given size. All of them keep the caller's ids (image ids); the exact kinds ({@code
 * Flat} storage) can {@link FaissIndex#reconstruct reconstruct} a vector exactly, SQ8 and IVF-PQ
 * only approximately (imsrc never reconstructs).
 *
 * <h2>Choosing by category size ({@link #AUTO}, the default)</h2>
 *
 * <p>One category's index is searched per chosen category (the two-stage search searches the top
 * 3), so what matters is the size of one category: a tenth of the library with ten categories.
 * Measured with IndexKindsBenchmark on one category of 64-d clustered unit vectors (the shipped
 * model's width, SyntheticLibrary's recipe), single queries with one thread, k = 10, recall@10
 * against the exact index (docs/benchmarks.md, "Index kinds by category size"; 16-core machine,
 * p50 in ms):
 *
 * <pre>
 *   vectors   flat    IVF at recall >= 0.95       HNSW32 at recall >= 0.95
 *    10,000   0.28    0.22 (nprobe 192 of 400)    0.15 (efSearch 64)
 *    25,000   0.63    0.42 (256 of 632)           0.38 (128)
 *    50,000   1.26    1.33 (384 of 894)           0.74 (192)
 *   100,000   2.52    1.29 (512 of 1,265)         1.64 (384)
 *   250,000   6.57    2.99 (768 of 2,000)         none: 0.942 at efSearch 512
 * </pre>
 *
 * <p>On the 2-core development machine, where the other figures of docs/benchmarks.md come from,
 * the flat scan slows sharply once a category's vectors outgrow the processor's cache (64 * 4 bytes
 * a vector; p50 in ms, IVF interpolated to nprobe = nlist / 2):
 *
 * <pre>
 *   vectors   flat    IVF at nprobe = nlist / 2
 *    50,000   1.59    about 1.9 (recall 0.956 at 384 of 894)
 *    75,000   3.82    about 2.9 (recall 0.971 at 512 of 1,095)
 *   100,000   5.98    about 3.4 (recall 0.954 at 512 of 1,265)
 * </pre>
 *
 * <ul>
 *   <li>Below {@link #AUTO_APPROXIMATE_FROM} (75,000) AUTO stays exact: a flat scan of a category
 *       of 50,000 takes 1.3-1.6 ms, no slower than IVF at the recall wanted, with no training, no
 *       recall loss and the least memory (264 bytes per vector). HNSW is faster there but needs
 *       twice the memory (536 bytes per vector) and cannot remove vectors.
 *   <li>From 75,000 AUTO builds IVF with nlist = 4 sqrt(n), searched at nprobe = nlist / 2 at
 *       most (CategoryIndex calibrates each category's nprobe on its own vectors at the build;
 *       nlist / 2 is what these clouds need), which needed 38 to 48% of the lists for recall 0.95 at every size: 1.3
 *       times faster than flat at 75,000 on the 2-core machine, 1.6-1.8 times at 100,000 and 1.7
 *       times at 250,000, growing with n, for 7% more memory. HNSW (M 32) fell under 0.95 recall at
 *       250,000 whatever the efSearch, builds slower and takes twice the memory.
 * </ul>
 *
 * <p>Within a category these synthetic vectors scatter isotropically around its centre, with no
 * sub-clusters: the worst case for IVF, which has to visit close to half its lists. Real
 * embeddings cluster further and should reach the same recall with fewer lists, so the settings err
 * on the side of recall; measure on the real library before lowering them.
 *
 * <h2>Wide embeddings</h2>
 *
 * <p>{@link #SQ8} and {@link #IVFPQ} trade recall for memory, for models like ResNet-50 (2,048
 * dimensions, 8 KB per vector flat): SQ8 keeps a quarter (2 KB per vector) at recall@10 about
 * 0.97; IVF-PQ keeps {@code dimension / 4} bytes (about 0.55 GB per million 2,048-d vectors against
 * 8.2 GB), but on synthetic 2,048-d vectors (isotropic noise around a centre, the worst case for
 * product quantization) reached recall@10 of only 0.45 at any nprobe: measure it on the real
 * library before using it. See docs/benchmarks.md for the figures. AUTO does not choose them:
 * losing recall to save memory is the operator's call.
 */
public enum IndexType {
    /**
     * The default: exact ({@link IndexSpec.Flat}) for a category under {@link #AUTO_APPROXIMATE_FROM}
     * vectors, IVF from there (see the measurements above).
     */
    AUTO("auto"),
    /**
     * Exact search over all vectors. Named flatl2 after the original design's setting;
     * imsrc builds it with the inner-product metric, and for unit vectors L2 and cosine
     * rank alike.
     */
    FLATL2("flatl2"),
    /**
     * Inverted lists over a k-means coarse quantizer: nlist = 4 sqrt(n) lists, searched
     * {@code nprobe} at a time; needs {@link FaissIndex#train training} first.
     */
    IVFFLAT("ivfflat"),
    /** A graph (HNSW, M = 32 neighbours per node); cannot remove vectors, rebuild instead. */
    HNSW("hnsw"),
    /**
     * An exhaustive scan of vectors stored in one byte per dimension (8-bit scalar quantizer): a
     * quarter of flat's memory, for wide embeddings, with approximate scores; flat below {@link
     * #MIN_QUANTIZER_TRAINING} vectors.
     */
    SQ8("sq8"),
    /**
     * IVF over product-quantized vectors of {@code dimension / }{@value #PQ_DIMENSIONS_PER_BYTE} bytes
     * each: the smallest index, with the lowest recall; SQ8 while a category is too small to train
     * its lists.
     */
    IVFPQ("ivfpq");

    /**
     * FAISS's k-means warns below 39 training points per centroid (its
     * min_points_per_centroid); with fewer vectors than that per list, IVFFLAT falls back
     * to an exact flat index, which at that size (under about 24,000 vectors at 4 sqrt(n)
     * lists) also searches in about a millisecond.
     */
    static final int MIN_POINTS_PER_LIST = 39;

    static final int HNSW_M = 32;

    /**
     * AUTO builds IVF for a category of at least this many vectors, flat below: the smallest
     * measured size at which IVF at nprobe = nlist / 2 beat the flat scan (see above; 100,000 on
     * the 16-core machine's coarser sizes, 75,000 on the 2-core machine).
     */
    public static final long AUTO_APPROXIMATE_FROM = 75_000;

    /**
     * The fewest vectors SQ8 trains its per-dimension ranges on; a category built smaller (one that
     * appears with its first few images) stays flat until the next rebuild, since vectors added
     * later are clipped to the trained ranges.
     */
    static final int MIN_QUANTIZER_TRAINING = 1_000;

    /** IVFPQ's sub-vector width: m = dimension / 4 bytes per vector, 16 for 64-d, 512 for 2048-d. */
    static final int PQ_DIMENSIONS_PER_BYTE = 4;

    private final String configValue;

    IndexType(String configValue) {
        this.configValue = configValue;
    }

    /** The FAISS_INDEX_TYPE value: auto, flatl2, ivfflat, hnsw, sq8 or ivfpq. */
    public String configValue() {
        return configValue;
    }

    /** Parses a FAISS_INDEX_TYPE value, ignoring case and surrounding blanks. */
    public static IndexType parse(String value) {
        if (value != null) {
            String wanted = value.strip().toLowerCase(Locale.ROOT);
            for (IndexType type : values()) {
                if (type.configValue.equals(wanted)) {
                    return type;
                }
            }
        }
        throw new IllegalArgumentException("unknown FAISS index type '" + value + "'; accepted values: "
                + Arrays.stream(values()).map(IndexType::configValue).collect(Collectors.joining(", ")));
    }

    /**
     * The index for a category of {@code vectorCount} vectors of {@code dimension} values, the one
     * place that chooses: flat, IVF with {@link #nlist} lists (an exact flat index while there are
     * too few vectors to train them), HNSW with M = {@value #HNSW_M}, SQ8, or IVF-PQ; as factory
     * strings "IDMap2,Flat", "IVF&lt;nlist&gt;,Flat", "IDMap2,HNSW32,Flat", "IDMap2,SQ8" or
     * "IVF&lt;nlist&gt;,PQ&lt;m&gt;". Only IVF-PQ needs the dimension (its m must divide it).
     *
     * <p>IVF goes without IDMap2 on purpose: IndexIVF stores ids itself, and FAISS 1.7.3
     * mislabels results after remove_ids on an IVF inside an id map (see {@link
     * FaissIndex}).
     */
    public IndexSpec spec(long vectorCount, int dimension) {
        if (vectorCount < 0) {
            throw new IllegalArgumentException("vector count must not be negative, got " + vectorCount);
        }
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be positive, got " + dimension);
        }
        return switch (this) {
            case AUTO -> vectorCount < AUTO_APPROXIMATE_FROM ? new IndexSpec.Flat() : IVFFLAT.spec(vectorCount, dimension);
            case FLATL2 -> new IndexSpec.Flat();
            case IVFFLAT -> trainable(vectorCount) ? new IndexSpec.Ivf(nlist(vectorCount)) : new IndexSpec.Flat();
            case HNSW -> new IndexSpec.Hnsw(HNSW_M);
            case SQ8 -> vectorCount < MIN_QUANTIZER_TRAINING ? new IndexSpec.Flat() : new IndexSpec.Sq8();
            case IVFPQ -> trainable(vectorCount)
                    ? new IndexSpec.IvfPq(nlist(vectorCount), pqBytes(dimension))
                    : SQ8.spec(vectorCount, dimension);
        };
    }

    /** Whether there are at least {@value #MIN_POINTS_PER_LIST} vectors per list to train IVF's lists. */
    private static boolean trainable(long vectorCount) {
        return vectorCount >= (long) MIN_POINTS_PER_LIST * nlist(vectorCount);
    }

    /** The number of IVF lists for {@code vectorCount} vectors: 4 sqrt(n), at least 1. */
    static int nlist(long vectorCount) {
        return (int) Math.max(1, Math.round(4 * Math.sqrt(vectorCount)));
    }

    /**
     * PQ's m for {@code dimension}: the largest divisor of the dimension that is at most {@code
     * dimension / }{@value #PQ_DIMENSIONS_PER_BYTE} (FAISS needs m to divide it), at least 1.
     */
    static int pqBytes(int dimension) {
        for (int m = Math.max(1, dimension / PQ_DIMENSIONS_PER_BYTE); m > 1; m--) {
            if (dimension % m == 0) {
                return m;
            }
        }
        return 1;
    }
}
