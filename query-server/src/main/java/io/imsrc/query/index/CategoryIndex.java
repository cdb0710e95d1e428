package io.imsrc.query.index;

import io.imsrc.common.faiss.FaissIndex;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.faiss.Metric;
import io.imsrc.common.faiss.SearchResult;
import java.util.Objects;

/**
 * The FAISS index of one category's images. The second search stage searches only the indexes of
 * the categories the first stage chose, so each category gets its own, built with the configured
 * type; a category too small for IVF's training falls back to an exact flat index (see {@link
 * IndexType#factoryDescription}).
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
    private final String description;

    private CategoryIndex(String category, FaissIndex index, String description) {
        this.category = category;
        this.index = index;
        this.description = description;
    }

    /**
     * Builds the index of a category from its vectors.
     *
     * @param vectors {@code ids.length * dimension} floats, row-major
     */
    public static CategoryIndex build(String category, IndexType type, int dimension, float[] vectors, long[] ids) {
        Objects.requireNonNull(category, "category");
        String description = type.factoryDescription(ids.length);
        FaissIndex index = FaissIndex.create(dimension, description, Metric.INNER_PRODUCT);
        try {
            if (!index.isTrained()) {
                index.train(vectors);
            }
            if (ids.length > 0) {
                index.addWithIds(vectors, ids);
            }
            tune(index, description);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
        return new CategoryIndex(category, index, description);
    }

    /** An index read from a file written by {@link #write}. */
    public static CategoryIndex read(String category, java.nio.file.Path file, String description) {
        FaissIndex index = FaissIndex.read(file);
        tune(index, description);
        return new CategoryIndex(category, index, description);
    }

    private static void tune(FaissIndex index, String description) {
        if (description.startsWith("IVF")) {
            int nlist = Integer.parseInt(description.substring(3, description.indexOf(',')));
            index.setNprobe(Math.max(1, (nlist + IVF_NPROBE_DIVISOR - 1) / IVF_NPROBE_DIVISOR));
        } else if (description.contains("HNSW")) {
            index.setEfSearch(HNSW_EF_SEARCH);
        }
    }

    public String category() {
        return category;
    }

    /** The FAISS factory description it was built with. */
    public String description() {
        return description;
    }

    public long size() {
        return index.ntotal();
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
