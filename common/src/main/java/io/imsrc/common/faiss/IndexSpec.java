package io.imsrc.common.faiss;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One index as FAISS builds it: its kind with the parameters that matter for searching it, and the
 * index_factory description that builds it. {@link IndexType#spec} chooses one for a number of
 * vectors; a saved index records {@link #factoryDescription} and is read back with {@link #parse},
 * so no caller takes a factory string apart.
 *
 * <p>The search settings (nprobe, efSearch) are not part of a spec: they are not in the FAISS file
 * either, and the query server derives them from the spec each time it builds or reads an index
 * ({@code CategoryIndex.tune}), so an index saved by an earlier version is searched with today's
 * settings, and every description an earlier version wrote still parses.
 */
public sealed interface IndexSpec {

    /** The index_factory description, as {@link FaissIndex#create} takes it. */
    default String factoryDescription() {
        if (this instanceof Ivf ivf) {
            return "IVF" + ivf.nlist() + ",Flat";
        }
        if (this instanceof Hnsw hnsw) {
            return "IDMap2,HNSW" + hnsw.m() + ",Flat";
        }
        if (this instanceof Sq8) {
            return "IDMap2,SQ8";
        }
        if (this instanceof IvfPq ivfPq) {
            return "IVF" + ivfPq.nlist() + ",PQ" + ivfPq.m() + "np";
        }
        return "IDMap2,Flat";
    }

    /**
     * Whether {@link FaissIndex#reconstruct} gives back the added vector exactly; the compressed
     * kinds ({@link Sq8}, {@link IvfPq}) give their decoded approximation.
     */
    default boolean storesVectorsExactly() {
        return !(this instanceof Sq8 || this instanceof IvfPq);
    }

    /** Exact search, the caller's ids kept by an IDMap2. */
    record Flat() implements IndexSpec {}

    /**
     * Inverted lists over a k-means coarse quantizer; IndexIVF stores the ids itself (no IDMap2:
     * see {@link FaissIndex}).
     *
     * @param nlist the number of lists, at least 1
     */
    record Ivf(int nlist) implements IndexSpec {
        public Ivf {
            if (nlist < 1) {
                throw new IllegalArgumentException("nlist must be positive, got " + nlist);
            }
        }
    }

    /**
     * A graph, the caller's ids kept by an IDMap2.
     *
     * @param m neighbours per node, at least 2
     */
    record Hnsw(int m) implements IndexSpec {
        public Hnsw {
            if (m < 2) {
                throw new IllegalArgumentException("M must be at least 2, got " + m);
            }
        }
    }

    /**
     * An exhaustive scan of vectors stored in one byte per dimension (FAISS's 8-bit scalar quantizer,
     * trained on each dimension's range; {@link IndexType#SQ8} trains it on the category's own
     * vectors): a quarter of {@link Flat}'s memory. The caller's ids kept by an IDMap2.
     */
    record Sq8() implements IndexSpec {}

    /**
     * Inverted lists whose vectors are product-quantized to {@code m} bytes each (8 bits per
     * sub-vector of {@code dimension / m} values); IndexIVFPQ stores the ids itself, like {@link
     * Ivf}. The dimension must be a multiple of {@code m}, which FAISS checks when it builds it.
     * The description ends in "np" (no polysemous training): index_factory otherwise reorders the
     * codes by simulated annealing for Hamming-distance filtering, which imsrc does not use and
     * which took minutes for 16 sub-quantizers on 5,000 vectors here.
     *
     * @param nlist the number of lists, at least 1
     * @param m the number of sub-quantizers, that is bytes per vector, at least 1
     */
    record IvfPq(int nlist, int m) implements IndexSpec {
        public IvfPq {
            if (nlist < 1) {
                throw new IllegalArgumentException("nlist must be positive, got " + nlist);
            }
            if (m < 1) {
                throw new IllegalArgumentException("PQ's m must be positive, got " + m);
            }
        }
    }

    /**
     * The spec a {@link #factoryDescription} names.
     *
     * @throws IllegalArgumentException for a description no spec writes
     */
    static IndexSpec parse(String description) {
        if (new Flat().factoryDescription().equals(description)) {
            return new Flat();
        }
        Matcher ivf = Patterns.IVF.matcher(description);
        if (ivf.matches()) {
            return new Ivf(Integer.parseInt(ivf.group(1)));
        }
        Matcher hnsw = Patterns.HNSW.matcher(description);
        if (hnsw.matches()) {
            return new Hnsw(Integer.parseInt(hnsw.group(1)));
        }
        if (new Sq8().factoryDescription().equals(description)) {
            return new Sq8();
        }
        Matcher ivfPq = Patterns.IVF_PQ.matcher(description);
        if (ivfPq.matches()) {
            return new IvfPq(Integer.parseInt(ivfPq.group(1)), Integer.parseInt(ivfPq.group(2)));
        }
        throw new IllegalArgumentException("not an index description imsrc writes: '" + description + "'");
    }

    /** Holder: an interface's fields are public, these need not be. */
    final class Patterns {
        private static final Pattern IVF = Pattern.compile("IVF([1-9][0-9]{0,8}),Flat");
        private static final Pattern HNSW = Pattern.compile("IDMap2,HNSW([1-9][0-9]{0,3}),Flat");
        private static final Pattern IVF_PQ = Pattern.compile("IVF([1-9][0-9]{0,8}),PQ([1-9][0-9]{0,4})np");

        private Patterns() {}
    }
}
