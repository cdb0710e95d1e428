package io.imsrc.common.faiss;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One index as FAISS builds it: its kind with the parameters that matter for searching it, and the
 * index_factory description that builds it. {@link IndexType#spec} chooses one for a number of
 * vectors; a saved index records {@link #factoryDescription} and is read back with {@link #parse},
 * so no caller takes a factory string apart.
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
        return "IDMap2,Flat";
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
        throw new IllegalArgumentException("not an index description imsrc writes: '" + description + "'");
    }

    /** Holder: an interface's fields are public, these need not be. */
    final class Patterns {
        private static final Pattern IVF = Pattern.compile("IVF([1-9][0-9]{0,8}),Flat");
        private static final Pattern HNSW = Pattern.compile("IDMap2,HNSW([1-9][0-9]{0,3}),Flat");

        private Patterns() {}
    }
}
