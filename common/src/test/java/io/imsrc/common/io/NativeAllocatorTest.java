package io.imsrc.common.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {

    private static final int BLOCKS = 160;
    private static final int BLOCK_BYTES = 1 << 20;

    /**
     * 160 MiB freed between live blocks stays resident (glibc only trims the top of a heap, and with
     * the inference thresholds only past 256 MiB); releasing free memory must give it back.
     */
    @Test
    void freed_arena_memory_goes_back_to_the_kernel_when_released() throws IOException {
        if (!Platform.isLinux()) {
            // No glibc, no malloc_trim: the call must say that nothing went back.
            assertThat(NativeAllocator.releaseFreeMemory()).isFalse();
            return;
        }
        assertThat(NativeAllocator.tuneForInference()).isTrue();
        long[] blocks = new long[BLOCKS];
        long[] fences = new long[BLOCKS]; // a live block after each: no freed block can merge into a heap's top
        try {
            for (int i = 0; i < BLOCKS; i++) {
                blocks[i] = Native.malloc(BLOCK_BYTES);
                // As large as the block, so it is cut from the heap right after it, never from a
                // free chunk elsewhere (a small fence could be, and let freed blocks merge).
                fences[i] = Native.malloc(BLOCK_BYTES);
                assertThat(blocks[i]).isNotZero();
                new Pointer(blocks[i]).setMemory(0, BLOCK_BYTES, (byte) 1);
            }
            for (int i = 0; i < BLOCKS; i++) {
                Native.free(blocks[i]);
                blocks[i] = 0;
            }
            long kept = residentBytes();
            assertThat(NativeAllocator.releaseFreeMemory()).isTrue();
            long released = kept - residentBytes();
            assertThat(released).as("resident bytes given back").isGreaterThan(BLOCKS * (long) BLOCK_BYTES / 2);
        } finally {
            for (int i = 0; i < BLOCKS; i++) {
                Native.free(blocks[i]);
                Native.free(fences[i]);
            }
        }
    }

    @Test
    void releasing_with_nothing_freed_is_harmless() {
        NativeAllocator.releaseFreeMemory();
        NativeAllocator.releaseFreeMemory();
    }

    private static long residentBytes() throws IOException {
        String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        return Long.parseLong(statm[1]) * 4096;
    }
}
