package io.imsrc.common.faiss;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What OpenBLAS, FAISS's BLAS, reads from the environment as it loads, filled in before {@link
 * FaissLibrary} loads it.
 *
 * <p>One setting so far, the kernels. Debian's OpenBLAS 0.3.21 (the one libfaiss-dev links) picks
 * its kernels for the processor at load time, and on a processor with AVX-512 and bfloat16 (it
 * checks for those two) it says "Cooperlake" but runs the SSE3 kernels of a Pentium 4
 * ("Prescott") for single-precision matrix products: the fix (OpenBLAS pull request 3806) came in
 * a later release. On the 2-core development machine, a Sapphire Rapids, {@code perf} shows
 * {@code sgemm_kernel_PRESCOTT} doing FAISS's k-means and list assignment, and with {@code
 * OPENBLAS_CORETYPE=SkylakeX} (the AVX-512 kernels, which the Cooper Lake target is meant to
 * extend) the same IVF build at 1,000,000 vectors trains in 3.2-4.8 s instead of 4.6-6.7 s
 * (docs/benchmarks.md, "OpenBLAS's kernels"). So on such processors imsrc sets {@value
 * #CORE_TYPE} to {@value #AVX512_CORE} unless the environment names a core already; elsewhere it
 * leaves OpenBLAS's own choice. Only Sapphire Rapids was measured. It does not look at OpenBLAS's
 * version (it cannot before the library loads): a later OpenBLAS gets the same AVX-512 matrix
 * kernels it would choose itself, less its bfloat16 extras, which FAISS does not call. A library
 * built for one processor (not {@code DYNAMIC_ARCH}) ignores the variable.
 *
 * <p>OpenBLAS reads its environment once, in its library constructor, so this must run before
 * the first FAISS call of the process, which {@link FaissLibrary}'s static initialiser makes
 * sure of. That is why it reads the environment here, below the entry point, against the rule
 * that only entry points do: the variables are OpenBLAS's own, read by OpenBLAS before any of
 * imsrc's options could reach it, and a value the user set wins. They go into the C library's
 * environment through {@code setenv} (never replacing one already there); Java's own view of the
 * environment ({@link System#getenv}) does not change. glibc's {@code setenv} is not safe against
 * a {@code getenv} in another thread at the same moment (adding a variable may move the array
 * that thread reads); the process calls it once, as FAISS first loads while the server starts,
 * which is the whole of that risk. Linux only, as the FAISS binding is.
 */
final class OpenBlasEnvironment {

    private static final Logger LOG = LoggerFactory.getLogger(OpenBlasEnvironment.class);

    /** OpenBLAS's choice of kernels in a library built for many processors. */
    static final String CORE_TYPE = "OPENBLAS_CORETYPE";

    /** The kernels for AVX-512, which OpenBLAS 0.3.21 fails to give a processor it calls Cooper Lake. */
    static final String AVX512_CORE = "SkylakeX";

    /** What OpenBLAS's SkylakeX kernels need: AVX-512 Foundation, and its CD, BW, DQ and VL parts. */
    private static final Set<String> AVX512 = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

    /** What makes OpenBLAS 0.3.21 call a processor with AVX-512 "Cooperlake". */
    private static final String BFLOAT16 = "avx512_bf16";

    private static final Path CPU_INFO = Path.of("/proc/cpuinfo");

    private OpenBlasEnvironment() {}

    /** The C library's {@code setenv}. */
    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /**
     * The variables to add to an environment for a processor with these flags: {@value #CORE_TYPE}
     * = {@value #AVX512_CORE} where the processor has AVX-512 and bfloat16 and the environment names
     * no core; nothing otherwise. In the order they are to be set.
     *
     * @param cpuFlags the processor's feature flags, as Linux names them in /proc/cpuinfo
     * @param environment the process's environment as it started
     */
    static Map<String, String> additions(Set<String> cpuFlags, Map<String, String> environment) {
        Map<String, String> add = new LinkedHashMap<>();
        if (!environment.containsKey(CORE_TYPE) && cpuFlags.containsAll(AVX512) && cpuFlags.contains(BFLOAT16)) {
            add.put(CORE_TYPE, AVX512_CORE);
        }
        return add;
    }

    /** The feature flags of the first processor in the text of /proc/cpuinfo; empty when it has none. */
    static Set<String> cpuFlags(List<String> cpuInfo) {
        for (String line : cpuInfo) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("flags")) {
                return Arrays.stream(line.substring(colon + 1).trim().split("\\s+"))
                        .filter(flag -> !flag.isEmpty())
                        .collect(Collectors.toUnmodifiableSet());
            }
        }
        return Set.of();
    }

    /**
     * Sets the {@link #additions} for this machine in the C library's environment, before OpenBLAS
     * loads; returns what it set. Never fails: where the processor's flags cannot be read, or
     * {@code setenv} cannot be called, OpenBLAS keeps its own choice and a warning says so.
     */
    static Map<String, String> prepare() {
        try {
            return Platform.isLinux() ? setForThisProcessor() : Map.of();
        } catch (LinkageError | RuntimeException e) {
            LOG.warn("Cannot prepare OpenBLAS's environment ({}); it chooses its kernels itself", e.toString());
            return Map.of();
        }
    }

    private static Map<String, String> setForThisProcessor() {
        Set<String> flags;
        try {
            flags = cpuFlags(Files.readAllLines(CPU_INFO, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot read the processor's features from {} ({}); OpenBLAS chooses its kernels itself",
                    CPU_INFO, e.toString());
            return Map.of();
        }
        Map<String, String> add = additions(flags, System.getenv());
        if (add.isEmpty()) {
            return add;
        }
        try {
            LibC libc = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
            for (Map.Entry<String, String> variable : add.entrySet()) {
                if (libc.setenv(variable.getKey(), variable.getValue(), 0) != 0) {
                    throw new IllegalStateException("setenv(" + variable.getKey() + ") failed");
                }
            }
        } catch (LinkageError | RuntimeException e) {
            LOG.warn("Cannot set {} for OpenBLAS ({}); it chooses its kernels itself", add, e.toString());
            return Map.of();
        }
        return add;
    }
}
