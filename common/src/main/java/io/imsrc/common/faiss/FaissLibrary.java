package io.imsrc.common.faiss;

import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.StdString;
import org.slf4j.LoggerFactory;

/**
 * JavaCPP mapping of the part of the system FAISS (Debian's libfaiss-dev 1.7.3) that
 * {@link FaissIndex} uses. It stays thin on purpose: one {@code native} line per C++
 * member, named as in C++, with the C++ declaration beside it. Nothing outside this
 * package sees it; {@link FaissIndex} adds argument checks, locking and ownership.
 *
 * <p>The javacpp Maven plugin compiles this class into
 * {@code io/imsrc/common/faiss/linux-x86_64/libjniFaissLibrary.so} at process-classes,
 * linking the static {@code libfaiss.a} with OpenBLAS, LAPACK and GNU OpenMP, so the
 * jar carries the JNI library and {@link Loader#load()} finds it on the class path. The
 * order of {@code link} matters: JavaCPP hands it to the linker reversed, so faiss, named
 * last, comes first on the command line, ahead of the libraries that resolve its BLAS
 * and LAPACK calls. The other order links too (a shared object may leave symbols open),
 * but the library then dies with "undefined symbol: sgemm_" at the first IVF training or
 * batched flat search; the build links with {@code -z defs} so that this fails at build
 * time instead. (OpenBLAS carries LAPACK on Debian, so liblapack is only a fallback.)
 *
 * <p>Every call is wrapped by JavaCPP in a C++ {@code try}/{@code catch}: a
 * {@code std::exception} (FAISS throws {@code faiss::FaissException}, a subclass) comes
 * back as a {@link RuntimeException} carrying {@code what()}, and anything else as a
 * RuntimeException "Unknown exception.". The two defines below are JavaCPP's defaults,
 * spelled out because the facade depends on them. A FAISS {@code FAISS_ASSERT} still
 * aborts the process, which is why the facade checks arguments before calling here.
 *
 * <p>Before JavaCPP loads the library, {@link NativeLibraryCache} replaces a stale cached copy of
 * it (one left by an earlier build of the same size and date) with the jar's, and {@link
 * OpenBlasEnvironment} fills in what OpenBLAS reads from the environment as it loads (its kernels,
 * on processors where its own choice is wrong). The log then names the OpenBLAS kernels and
 * threads in use.
 *
 * <p>Pointers returned by {@link #index_factory} and {@link #read_index} are owned by
 * the caller and must be freed with {@link #delete(Index)}; JavaCPP attaches no
 * deallocator to them.
 */
@Platform(
        value = "linux-x86_64",
        include = {
            "<omp.h>",
            "cblas-openblas.h",
            "faiss/Index.h",
            "faiss/IndexIVF.h",
            "faiss/IndexHNSW.h",
            "faiss/IndexIDMap.h",
            "faiss/impl/IDSelector.h",
            "faiss/index_factory.h",
            "faiss/index_io.h",
            "faiss/AutoTune.h",
        },
        link = {"gomp", "lapack", "openblas", "faiss"},
        define = {
            "GENERIC_EXCEPTION_CLASS std::exception",
            "GENERIC_EXCEPTION_TOSTRING what()",
        })
@Namespace("faiss")
final class FaissLibrary {
    static {
        NativeLibraryCache.replaceStaleCopy(FaissLibrary.class.getResource(
                Loader.getPlatform() + "/" + System.mapLibraryName("jniFaissLibrary")));
        Map<String, String> set = OpenBlasEnvironment.prepare(); // OpenBLAS reads it as it loads
        Loader.load();
        LoggerFactory.getLogger(FaissLibrary.class).info("FAISS loaded; OpenBLAS {} ({}), {} threads{}",
                openblas_get_corename().getString(), openblas_get_config().getString().trim(),
                openblas_get_num_threads(), set.isEmpty() ? "" : ", with " + set + " for this processor");
    }

    private FaissLibrary() {}

    /** Does nothing; calling it makes sure the static initialiser above ran, before a nested class's own. */
    static void initialized() {}

    /** {@code enum MetricType { METRIC_INNER_PRODUCT = 0, METRIC_L2 = 1, ... }} */
    static final int METRIC_INNER_PRODUCT = 0;

    static final int METRIC_L2 = 1;

    /** {@code struct Index}: the abstract base of every index. */
    static class Index extends Pointer {
        static {
            FaissLibrary.initialized();
            Loader.load();
        }

        Index(Pointer p) {
            super(p);
        }

        @MemberGetter native int d(); // int d;

        @MemberGetter @Cast("faiss::Index::idx_t") native long ntotal(); // idx_t ntotal;

        @MemberGetter @Cast("bool") native boolean is_trained(); // bool is_trained;

        @MemberGetter @Cast("int") native int metric_type(); // MetricType metric_type;

        native void train(@Cast("faiss::Index::idx_t") long n, @Const float[] x); // virtual void train(idx_t n, const float* x);

        native void add(@Cast("faiss::Index::idx_t") long n, @Const float[] x); // virtual void add(idx_t n, const float* x) = 0;

        native void add_with_ids(@Cast("faiss::Index::idx_t") long n, @Const float[] x, @Cast("const faiss::Index::idx_t*") long[] xids); // virtual void add_with_ids(idx_t n, const float* x, const idx_t* xids);

        native void search(@Cast("faiss::Index::idx_t") long n, @Const float[] x, @Cast("faiss::Index::idx_t") long k, float[] distances, @Cast("faiss::Index::idx_t*") long[] labels); // virtual void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, const SearchParameters* params = nullptr) const = 0;

        @Cast("size_t") native long remove_ids(@Const @ByRef IDSelector sel); // virtual size_t remove_ids(const IDSelector& sel);

        native void reconstruct(@Cast("faiss::Index::idx_t") long key, float[] recons); // virtual void reconstruct(idx_t key, float* recons) const;

        native void reconstruct_n(@Cast("faiss::Index::idx_t") long i0, @Cast("faiss::Index::idx_t") long ni, float[] recons); // virtual void reconstruct_n(idx_t i0, idx_t ni, float* recons) const;

        native void reset(); // virtual void reset() = 0;
    }

    /** {@code struct IndexIVF : Index, Level1Quantizer}. */
    static class IndexIVF extends Index {
        IndexIVF(Pointer p) {
            super(p);
        }

        native void set_direct_map_type(@Cast("faiss::DirectMap::Type") int type); // void set_direct_map_type(DirectMap::Type type);

        @MemberGetter native Index quantizer(); // Index* quantizer; (of Level1Quantizer: the list centroids)

        @MemberGetter @Cast("size_t") native long nlist(); // size_t nlist; (of Level1Quantizer)

        native void add_core(@Cast("faiss::Index::idx_t") long n, @Const float[] x, @Cast("const faiss::Index::idx_t*") long[] xids, @Cast("const faiss::Index::idx_t*") long[] precomputed_idx); // virtual void add_core(idx_t n, const float* x, const idx_t* xids, const idx_t* precomputed_idx);
    }

    /** {@code enum DirectMap::Type { NoMap = 0, Array = 1, Hashtable = 2 }} */
    static final int DIRECT_MAP_NO_MAP = 0;

    static final int DIRECT_MAP_ARRAY = 1;

    static final int DIRECT_MAP_HASHTABLE = 2;

    /** {@code struct IndexHNSW : Index}. */
    static class IndexHNSW extends Index {
        IndexHNSW(Pointer p) {
            super(p);
        }
    }

    /** {@code using IndexIDMap = IndexIDMapTemplate<Index>}; IndexIDMap2 derives from it. */
    static class IndexIDMap extends Index {
        IndexIDMap(Pointer p) {
            super(p);
        }

        @MemberGetter native Index index(); // Index* index;
    }

    /** {@code struct IDSelector}: the argument of remove_ids. */
    static class IDSelector extends Pointer {
        static {
            FaissLibrary.initialized();
            Loader.load();
        }

        IDSelector(Pointer p) {
            super(p);
        }
    }

    /**
     * {@code struct IDSelectorArray : IDSelector}. It keeps the {@code ids} pointer, not
     * a copy, so the memory must outlive the selector; the only selector that an IVF
     * index with a hash-table direct map accepts.
     */
    static class IDSelectorArray extends IDSelector {
        IDSelectorArray(long n, LongPointer ids) {
            super((Pointer) null);
            allocate(n, ids);
        }

        private native void allocate(@Cast("size_t") long n, @Cast("const faiss::Index::idx_t*") LongPointer ids); // IDSelectorArray(size_t n, const idx_t* ids);
    }

    /** {@code struct IDSelectorBatch : IDSelector}: copies the ids into a hash set. */
    static class IDSelectorBatch extends IDSelector {
        IDSelectorBatch(long n, long[] indices) {
            super((Pointer) null);
            allocate(n, indices);
        }

        private native void allocate(@Cast("size_t") long n, @Cast("const faiss::Index::idx_t*") long[] indices); // IDSelectorBatch(size_t n, const idx_t* indices);
    }

    /** {@code struct ParameterSpace}: sets search-time parameters through wrappers such as IndexIDMap. */
    static class ParameterSpace extends Pointer {
        static {
            FaissLibrary.initialized();
            Loader.load();
        }

        ParameterSpace() {
            allocate();
        }

        private native void allocate(); // ParameterSpace();

        native void set_index_parameter(Index index, @StdString String name, double val); // virtual void set_index_parameter(Index* index, const std::string& name, double val) const;
    }

    static native Index index_factory(int d, String description, @Cast("faiss::MetricType") int metric); // Index* index_factory(int d, const char* description, MetricType metric = METRIC_L2);

    static native void write_index(@Const Index idx, String fname); // void write_index(const Index* idx, const char* fname);

    static native Index read_index(String fname, int io_flags); // Index* read_index(const char* fname, int io_flags = 0);

    @Namespace @Name("delete") static native void delete(Index index); // delete index; (virtual ~Index())

    @Namespace @Name("dynamic_cast<faiss::IndexIVF*>") static native IndexIVF asIndexIVF(Index index); // dynamic_cast<IndexIVF*>(index)

    @Namespace @Name("dynamic_cast<faiss::IndexHNSW*>") static native IndexHNSW asIndexHNSW(Index index); // dynamic_cast<IndexHNSW*>(index)

    @Namespace @Name("dynamic_cast<faiss::IndexIDMap*>") static native IndexIDMap asIndexIDMap(Index index); // dynamic_cast<IndexIDMap*>(index)

    @Namespace static native void omp_set_num_threads(int n); // void omp_set_num_threads(int);

    @Namespace static native int omp_get_max_threads(); // int omp_get_max_threads(void);

    @Namespace static native void openblas_set_num_threads(int num_threads); // void openblas_set_num_threads(int num_threads);

    @Namespace static native int openblas_get_num_threads(); // int openblas_get_num_threads(void);

    @Namespace static native @Cast("char*") BytePointer openblas_get_corename(); // char* openblas_get_corename(void);

    @Namespace static native @Cast("char*") BytePointer openblas_get_config(); // char* openblas_get_config(void);
}
