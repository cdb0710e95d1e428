package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A JVM whose JavaCPP cache holds a stale copy of the JNI library, of the same size and date as the
 * jar's (what a rebuild of the same version left behind), still loads the jar's library, in a JVM
 * of its own with its own cache directory.
 */
class NativeLibraryCacheITCase {
    private static final String LIBRARY = "io/imsrc/common/faiss/" + Loader.getPlatform() + "/"
            + System.mapLibraryName("jniFaissLibrary");

    @TempDir
    Path temp;

    private Path jar;
    private JarEntry entry;

    @BeforeEach
    void jarOfTheBindings() throws Exception {
        jar = temp.resolve("imsrc-common-cache-test.jar");
        URL library = FaissLibrary.class.getClassLoader().getResource(LIBRARY);
        assertThat(library).as(LIBRARY).isNotNull();
        if ("jar".equals(library.getProtocol())) {
            Files.copy(Path.of(((JarURLConnection) library.openConnection()).getJarFileURL().toURI()), jar);
        } else {
            // The module's classes directory: the bindings' package (which needs nothing else of
            // the module), with a fixed date on every entry as the module's jar has.
            Path bindings = Path.of(library.toURI()).getParent().getParent();
            Path root = bindings.getParent().getParent().getParent().getParent();
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                    Stream<Path> files = Files.walk(bindings)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    JarEntry next = new JarEntry(root.relativize(file).toString().replace(File.separatorChar, '/'));
                    next.setTime(1_700_000_000_000L);
                    out.putNextEntry(next);
                    Files.copy(file, out);
                    out.closeEntry();
                }
            }
        }
        try (JarFile file = new JarFile(jar.toFile())) {
            entry = file.getJarEntry(LIBRARY);
        }
        assertThat(entry).isNotNull();
    }

    @ParameterizedTest(name = "nosubdir={0}")
    @ValueSource(booleans = {false, true})
    void a_stale_cached_library_of_the_same_size_and_date_is_replaced_by_the_jars(boolean noSubdirectory)
            throws Exception {
        Path cache = temp.resolve("cache");
        Path stale = NativeLibraryCache.cachedCopy(cache, jar, LIBRARY, noSubdirectory);
        Files.createDirectories(stale.getParent());
        byte[] zeros = new byte[(int) entry.getSize()];
        Files.write(stale, zeros); // not a shared object at all: loading it would fail
        Files.setLastModifiedTime(stale, FileTime.fromMillis(entry.getTime()));

        Run probe = probe(cache, noSubdirectory);

        assertThat(probe.output()).as("exit %d", probe.exit()).contains("faiss ok");
        assertThat(probe.exit()).isZero();
        assertThat(Files.size(stale)).isEqualTo(entry.getSize());
        assertThat(crc32(stale)).as("the cached copy is the jar's again").isEqualTo(entry.getCrc());
    }

    @Test
    void a_current_cached_library_is_kept() throws Exception {
        Path cache = temp.resolve("cache");
        assertThat(probe(cache, false).output()).contains("faiss ok");
        Path cached = NativeLibraryCache.cachedCopy(cache, jar, LIBRARY, false);
        Path link = temp.resolve("first-copy");
        Files.createLink(link, cached);

        assertThat(probe(cache, false).output()).contains("faiss ok");
        assertThat(Files.isSameFile(cached, link)).as("neither extracted nor replaced again").isTrue();
    }

    private record Run(int exit, String output) {}

    /**
     * FaissProbe in a JVM with the copied jar in place of the module's classes, JavaCPP caching in
     * {@code cache}; killed if it has not ended within two minutes.
     */
    private Run probe(Path cache, boolean noSubdirectory) throws Exception {
        String own = Path.of(FaissLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String classPath = Stream.concat(Stream.of(jar.toString()),
                        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                                .filter(entry -> !Path.of(entry).toString().equals(own)))
                .collect(Collectors.joining(File.pathSeparator));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                "-Dorg.bytedeco.javacpp.cachedir.nosubdir=" + noSubdirectory,
                "-cp", classPath, FaissProbe.class.getName()));
        Path output = Files.createTempFile(temp, "probe", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the probe ended").isTrue();
        } finally {
            process.destroyForcibly();
        }
        return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }

    private static long crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(Files.readAllBytes(file));
        return crc.getValue();
    }
}
