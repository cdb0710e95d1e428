package io.imsrc.common.faiss;

/**
 * The threads FAISS computes with: OpenMP threads (GNU libgomp's {@code
 * omp_set_num_threads} and {@code omp_get_max_threads}) and OpenBLAS's own threads
 * ({@code openblas_set_num_threads}).
 *
 * <p>The OpenMP setting belongs to the calling thread: libgomp gives a thread that is not
 * already inside an OpenMP region its own copy of the settings when it first writes one,
 * so a call here does not change what other Java threads get (they keep the process
 * default: OMP_NUM_THREADS, or the number of cores). Every Java thread that calls FAISS
 * also starts its own OpenMP team, so with several threads searching at once (HTTP
 * workers) each of them should call {@code setNumThreads(1)} once, before its first
 * search. FAISS spreads a search over its queries, so a single query gains nothing from a
 * second OpenMP thread. On the busy 2-core benchmark machine it lost a lot: flat and
 * HNSW single queries took 4 to 40 times longer with 2 threads than with 1
 * (docs/benchmarks.md).
 *
 * <p>The OpenBLAS setting is process-wide. FAISS calls BLAS for exact searches of 20 or
 * more queries at once and for IVF training. Debian's default OpenBLAS runs its own
 * pthreads beside FAISS's OpenMP threads, and on 2 cores the two pools spin against each
 * other. A flat search of 64 queries with 2 OpenMP threads took 7.5 ms per query with
 * OpenBLAS's 2 threads and 3.2 ms with 1 (0.14 ms with 1 OpenMP thread). {@code
 * setBlasThreads(1)}, or OPENBLAS_NUM_THREADS=1 in the environment, avoids that, at the
 * cost of single-threaded matrix products.
 */
public final class FaissThreads {
    private FaissThreads() {}

    /** Sets the number of OpenMP threads for FAISS calls made by the calling thread. */
    public static void setNumThreads(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("thread count must be positive, got " + threads);
        }
        FaissLibrary.omp_set_num_threads(threads);
    }

    /** The number of OpenMP threads a FAISS call made by the calling thread may use. */
    public static int maxThreads() {
        return FaissLibrary.omp_get_max_threads();
    }

    /**
     * Runs {@code action} with one OpenMP thread for the calling thread's FAISS calls, then restores
     * its setting: for many small FAISS calls in a row, where OpenMP's idle threads spinning against
     * OpenBLAS's lose more than a second thread gains ({@link TwoLevelKMeans}).
     */
    static <T> T onOneThread(java.util.function.Supplier<T> action) {
        int threads = maxThreads();
        setNumThreads(1);
        try {
            return action.get();
        } finally {
            setNumThreads(threads);
        }
    }

    /** Sets the number of threads OpenBLAS uses, for the whole process. */
    public static void setBlasThreads(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("thread count must be positive, got " + threads);
        }
        FaissLibrary.openblas_set_num_threads(threads);
    }

    /** The number of threads OpenBLAS uses. */
    public static int blasThreads() {
        return FaissLibrary.openblas_get_num_threads();
    }

    /** The processor whose kernels OpenBLAS runs, as OpenBLAS names it ("SkylakeX", "Haswell", ...). */
    public static String blasCore() {
        return FaissLibrary.openblas_get_corename().getString();
    }
}
