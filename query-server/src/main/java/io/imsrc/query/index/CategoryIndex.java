package io.imsrc.query.index;

import io.imsrc.common.faiss.FaissIndex;
import io.imsrc.common.faiss.IndexSpec;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.faiss.Metric;
import io.imsrc.common.faiss.SearchResult;
import java.util.Objects;

/**
 * The FAISS index of one category's images. The second search stage searches only the indexes of
 * the categories the first stage chose, so each category gets its own, built with the configured
 * type; a category too small for IVF's training falls back to an exact flat index (see {@link
 * IndexType#spec}).
 *
 * <p>Thread-safe: {@link FaissIndex} lets searches run in parallel and serialises adds. Owns its
 * native index; {@link #close} frees it.
 */
public final class CategoryIndex implements AutoCloseable {

    /** IVF lists searched per query, as a share of all lists. */
    static final int IVF_NPROBE_DIVISOR = 4;

    /** HNSW's search breadth. */
    static final int HNSW_EF_SEARCH = 128;

    private final String category;
    private final FaissIndex index;
    private final IndexSpec spec;

    private CategoryIndex(String category, FaissIndex index, IndexSpec spec) {
        this.category = category;
        this.index = index;
        this.spec = spec;
    }

    /**
     * Training points per IVF list: FAISS's k-means wants at least 39 (it warns below) and samples
     * down to 256; 64 trains lists as good as all points would, at a fraction of the time and heap.
     */
    static final int TRAINING_POINTS_PER_LIST = 64;

    /**
     * Builds the index of a category from its vectors, the kind {@code type} gives for their number.
     *
     * @param vectors {@code ids.length * dimension} floats, row-major
     */
    public static CategoryIndex build(String category, IndexType type, int dimension, float[] vectors, long[] ids) {
        CategoryIndex built = create(category, type.spec(ids.length), dimension);
        try {
            if (!built.isTrained()) {
                built.train(vectors);
            }
            if (ids.length > 0) {
                built.add(vectors, ids);
            }
        } catch (RuntimeException e) {
            built.close();
            throw e;
        }
        return built;
    }

    /** An empty index of the kind {@code spec} names; one that is not {@link #isTrained} needs {@link #train} first. */
    static CategoryIndex create(String category, IndexSpec spec, int dimension) {
        Objects.requireNonNull(category, "category");
        FaissIndex index = FaissIndex.create(dimension, spec.factoryDescription(), Metric.INNER_PRODUCT);
        try {
            tune(index, spec);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
        return new CategoryIndex(category, index, spec);
    }

    /**
     * How many of a category's {@code size} vectors to train an index of this kind on: for IVF
     * {@value #TRAINING_POINTS_PER_LIST} per list, at most all of them; 0 for kinds without training.
     */
    static long trainingSampleSize(IndexSpec spec, long size) {
        if (spec instanceof IndexSpec.Ivf ivf) {
            return Math.min(size, (long) TRAINING_POINTS_PER_LIST * ivf.nlist());
        }
        return 0;
    }

    /** An index read from a file written by {@link #write}, built as {@code spec} says. */
    public static CategoryIndex read(String category, java.nio.file.Path file, IndexSpec spec) {
        FaissIndex index = FaissIndex.read(file);
        try {
            tune(index, spec);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
        return new CategoryIndex(category, index, spec);
    }

    private static void tune(FaissIndex index, IndexSpec spec) {
        if (spec instanceof IndexSpec.Ivf ivf) {
            index.setNprobe(Math.max(1, (ivf.nlist() + IVF_NPROBE_DIVISOR - 1) / IVF_NPROBE_DIVISOR));
        } else if (spec instanceof IndexSpec.Hnsw) {
            index.setEfSearch(HNSW_EF_SEARCH);
        }
    }

    public String category() {
        return category;
    }

    /** What it was built as. */
    public IndexSpec spec() {
        return spec;
    }

    public long size() {
        return index.ntotal();
    }

    boolean isTrained() {
        return index.isTrained();
    }

    /** Trains the index on a sample of {@code sample.length / dimension} vectors. */
    void train(float[] sample) {
        index.train(sample);
    }

    /** Adds vectors; the caller makes sure none of the ids is in the index already. */
    public void add(float[] vectors, long[] ids) {
        index.addWithIds(vectors, ids);
    }

    /** The {@code k} nearest by inner product (the cosine, for unit vectors). */
    public SearchResult search(float[] query, int k) {
        return index.search(query, k);
    }

    public void write(java.nio.file.Path file) {
        index.write(file);
    }

    @Override
    public void close() {
        index.close();
    }
}
