package io.imsrc.common.io;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * glibc's malloc, tuned for the model ({@link #tuneForInference}) and told when a large piece of
 * native work is over ({@link #releaseFreeMemory}).
 *
 * <p>Inference: keeps glibc's malloc from handing libtorch's activation buffers back to the kernel
 * after every forward pass.
 *
 * <p>A forward pass of the CIFAR ResNets allocates and frees tensors of 0.1-16 MB. glibc serves
 * such sizes with mmap (or trims them off the heap top) once its adaptive thresholds say so, and
 * the next pass page-faults all of that memory in again: on the development machine ResNet-20
 * then spent 40% of its time in the kernel at about 68,000 minor faults per second, and ran at
 * 200-400 images/s instead of 1,400-2,200, switching between the two modes unpredictably (PyTorch
 * in Python does the same: 420 against 2,700 images/s). Fixing the thresholds keeps freed buffers
 * in the arena for the next call: {@code M_MMAP_THRESHOLD} 32 MiB (glibc's maximum) and {@code
 * M_TRIM_THRESHOLD} 256 MiB, the same as starting the JVM with {@code MALLOC_MMAP_THRESHOLD_} and
 * {@code MALLOC_TRIM_THRESHOLD_}. The price is that up to 256 MiB of freed native memory per
 * malloc arena stays with the process.
 *
 * <p>Index builds: FAISS grows each index a chunk at a time and frees the arrays it outgrows, and a
 * build's training sample and chunk buffers are freed at its end. With the trim threshold above,
 * glibc keeps most of that as free arena memory, resident but unused: at 1,000,000 64-d vectors a
 * fresh build left the query server 140-150 MB larger than a load of the same index. {@link
 * #releaseFreeMemory} (glibc's {@code malloc_trim(0)}) gives the free pages of every arena back.
 *
 * <p>The setting is process-wide, so it is applied at most once per process and only on Linux
 * with glibc; elsewhere (or with jemalloc/tcmalloc preloaded, which do not need it) the call does
 * nothing useful and does no harm.
 */
public final class NativeAllocator {

    private static final Logger LOG = LoggerFactory.getLogger(NativeAllocator.class);

    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;
    public static final int MMAP_THRESHOLD_BYTES = 32 << 20;
    public static final int TRIM_THRESHOLD_BYTES = 256 << 20;

    private static final AtomicBoolean TUNED = new AtomicBoolean();
    private static volatile LibC LIBC;

    private NativeAllocator() {}

    /** The C library's {@code mallopt} and {@code malloc_trim}. */
    private interface LibC extends Library {
        int mallopt(int param, int value);

        int malloc_trim(long pad);
    }

    /** Returns whether glibc accepted the thresholds (now or on an earlier call). */
    public static boolean tuneForInference() {
        if (!Platform.isLinux()) {
            return false;
        }
        if (!TUNED.compareAndSet(false, true)) {
            return true;
        }
        try {
            LibC libc = libc();
            boolean ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
                    & libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1;
            LOG.info("glibc malloc thresholds for inference: mmap {} MiB, trim {} MiB ({})",
                    MMAP_THRESHOLD_BYTES >> 20, TRIM_THRESHOLD_BYTES >> 20, ok ? "set" : "refused");
            return ok;
        } catch (LinkageError | RuntimeException e) {
            LOG.warn("Cannot tune malloc for inference (not glibc?): {}", e.toString());
            return false;
        }
    }

    /**
     * Gives the free pages of every malloc arena back to the kernel; for the end of a large native
     * job (an index build), never for a hot path: it walks every arena, a few milliseconds per GB.
     * Returns whether any memory went back; false where the C library is not glibc.
     */
    public static boolean releaseFreeMemory() {
        if (!Platform.isLinux()) {
            return false;
        }
        try {
            return libc().malloc_trim(0) == 1;
        } catch (LinkageError | RuntimeException e) {
            LOG.debug("Cannot trim malloc's arenas (not glibc?): {}", e.toString());
            return false;
        }
    }

    private static LibC libc() {
        LibC libc = LIBC;
        if (libc == null) {
            libc = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
            LIBC = libc;
        }
        return libc;
    }
}
