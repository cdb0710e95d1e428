package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpenBlasEnvironmentTest {

    /** Flags as Linux lists them for a Sapphire Rapids virtual machine (trimmed). */
    private static final String SAPPHIRE_RAPIDS = "fpu vme de pse tsc msr pae sse sse2 ssse3 fma avx2 avx512f avx512dq"
            + " avx512ifma avx512cd avx512bw avx512vl avx512vbmi avx_vnni avx512_bf16 avx512_vnni amx_bf16 amx_tile amx_int8";

    /** A Cascade Lake: AVX-512 without bfloat16, which OpenBLAS 0.3.21 gives its SkylakeX kernels itself. */
    private static final String CASCADE_LAKE = "fpu sse sse2 fma avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni";

    private static final String HASWELL = "fpu sse sse2 ssse3 sse4_1 sse4_2 fma avx avx2";

    @Test
    void a_processor_with_avx512_and_bfloat16_gets_the_avx512_kernels() {
        assertThat(OpenBlasEnvironment.additions(flags(SAPPHIRE_RAPIDS), Map.of("PATH", "/usr/bin")))
                .containsExactly(Map.entry("OPENBLAS_CORETYPE", "SkylakeX"));
    }

    @Test
    void a_core_the_environment_names_is_kept() {
        assertThat(OpenBlasEnvironment.additions(flags(SAPPHIRE_RAPIDS), Map.of("OPENBLAS_CORETYPE", "Haswell")))
                .isEmpty();
    }

    @Test
    void processors_that_openblas_reads_right_keep_its_choice() {
        assertThat(OpenBlasEnvironment.additions(flags(CASCADE_LAKE), Map.of())).isEmpty();
        assertThat(OpenBlasEnvironment.additions(flags(HASWELL), Map.of())).isEmpty();
        assertThat(OpenBlasEnvironment.additions(Set.of(), Map.of())).isEmpty();
        // bfloat16 without the rest of AVX-512 (no such processor; OpenBLAS would not call it Cooper Lake)
        assertThat(OpenBlasEnvironment.additions(flags("avx2 avx512f avx512_bf16"), Map.of())).isEmpty();
    }

    @Test
    void the_flags_are_those_of_the_first_processor_in_cpuinfo() {
        List<String> cpuInfo = List.of(
                "processor\t: 0",
                "model name\t: Intel(R) Xeon(R) Processor",
                "flags\t\t: fpu  avx2 avx512f",
                "vmx flags\t: vnmi preemption_timer",
                "",
                "processor\t: 1",
                "flags\t\t: fpu sse");

        assertThat(OpenBlasEnvironment.cpuFlags(cpuInfo)).containsExactlyInAnyOrder("fpu", "avx2", "avx512f");
        assertThat(OpenBlasEnvironment.cpuFlags(List.of("processor\t: 0", "vmx flags\t: vnmi"))).isEmpty();
    }

    /**
     * In this JVM FAISS is loaded: OpenBLAS runs the kernels its environment named, the ones imsrc
     * set for this processor where it set any (on the development and CI machines, Sapphire
     * Rapids, it does). Elsewhere it names its own choice.
     */
    @Test
    void openblas_runs_the_kernels_chosen_for_this_processor() throws IOException {
        Set<String> flags = OpenBlasEnvironment.cpuFlags(Files.readAllLines(Path.of("/proc/cpuinfo")));
        String named = OpenBlasEnvironment.additions(flags, System.getenv())
                .getOrDefault("OPENBLAS_CORETYPE", System.getenv("OPENBLAS_CORETYPE"));

        String core = FaissThreads.blasCore();

        assertThat(core).isNotBlank().isNotEqualToIgnoringCase("unknown");
        if (named != null) {
            assertThat(core).isEqualToIgnoringCase(named);
        }
    }

    private static Set<String> flags(String line) {
        return OpenBlasEnvironment.cpuFlags(List.of("flags\t\t: " + line));
    }
}
