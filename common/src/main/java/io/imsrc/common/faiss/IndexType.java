package io.imsrc.common.faiss;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The index kinds FAISS_INDEX_TYPE selects, and the FAISS factory description each
 * builds for a given number of vectors. All of them keep the caller's ids (image ids)
 * and can {@link FaissIndex#reconstruct reconstruct} a vector.
 *
 * <p>The search settings are not part of the description: set them on the index with
 * {@link FaissIndex#setNprobe} and {@link FaissIndex#setEfSearch}. FAISS's defaults
 * (nprobe 1, efSearch 16) are far too low for recall. On seeded random 64-dimensional
 * unit vectors, recall@10 of at least 0.95 against an exact search took:
 *
 * <ul>
 *   <li>10,000 vectors (FaissIndexTest): efSearch 128 for HNSW; for IVF, nprobe 256 of
 *       400 lists.
 *   <li>60,000 vectors (FaissSearchBenchmark, docs/benchmarks.md): efSearch 256 (recall
 *       0.97); for IVF, nprobe 512 of 980 lists (0.98). At those settings a single
 *       query was no faster than the exact flat scan (about 1.3 ms on 2 cores).
 * </ul>
 *
 * <p>Random vectors have no clusters, so they are the worst case for both; real
 * embeddings should need less. Measure on them before choosing anything but FLATL2.
 */
public enum IndexType {
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
    HNSW("hnsw");

    /**
     * FAISS's k-means warns below 39 training points per centroid (its
     * min_points_per_centroid); with fewer vectors than that per list, IVFFLAT falls back
     * to an exact flat index, which at that size (under about 24,000 vectors at 4 sqrt(n)
     * lists) also searches in about a millisecond.
     */
    static final int MIN_POINTS_PER_LIST = 39;

    static final int HNSW_M = 32;

    private final String configValue;

    IndexType(String configValue) {
        this.configValue = configValue;
    }

    /** The FAISS_INDEX_TYPE value: flatl2, ivfflat or hnsw. */
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
     * The index for {@code vectorCount} vectors: flat, IVF with {@link #nlist} lists (an exact flat
     * index while there are too few vectors to train them) or HNSW with M = {@value #HNSW_M}; as
     * factory strings "IDMap2,Flat", "IVF&lt;nlist&gt;,Flat" or "IDMap2,HNSW32,Flat".
     *
     * <p>IVF goes without IDMap2 on purpose: IndexIVF stores ids itself, and FAISS 1.7.3
     * mislabels results after remove_ids on an IVF inside an id map (see {@link
     * FaissIndex}).
     */
    public IndexSpec spec(long vectorCount) {
        if (vectorCount < 0) {
            throw new IllegalArgumentException("vector count must not be negative, got " + vectorCount);
        }
        return switch (this) {
            case FLATL2 -> new IndexSpec.Flat();
            case IVFFLAT -> {
                int nlist = nlist(vectorCount);
                yield vectorCount < (long) MIN_POINTS_PER_LIST * nlist ? new IndexSpec.Flat() : new IndexSpec.Ivf(nlist);
            }
            case HNSW -> new IndexSpec.Hnsw(HNSW_M);
        };
    }

    /** The number of IVF lists for {@code vectorCount} vectors: 4 sqrt(n), at least 1. */
    static int nlist(long vectorCount) {
        return (int) Math.max(1, Math.round(4 * Math.sqrt(vectorCount)));
    }
}
