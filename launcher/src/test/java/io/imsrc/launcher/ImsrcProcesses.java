package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.testing.ApiClient;
import io.imsrc.testing.Ports;
import io.imsrc.testing.Waiting;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code bin/imsrc} as a user runs it, in processes of its own, for the end-to-end tests: from a
 * copy of the command and the launcher's build in TEMP/clone/imsrc, where no {@code ../shared}
 * exists, with no model settings, so that what a fresh clone has must be enough. Each run's console
 * stays in target/LOGS for a failed test to be read. {@link #close} kills whatever still runs.
 */
final class ImsrcProcesses implements AutoCloseable {

    static final Pattern JDBC_URL = Pattern.compile("PostgreSQL\\s+(jdbc:postgresql://localhost:(\\d+)/\\w+)");
    static final Pattern KAFKA = Pattern.compile("Kafka\\s+127\\.0\\.0\\.1:(\\d+)");

    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    private final Path temp;
    private final Path logs;
    private final List<Process> started = new ArrayList<>();
    private Path imsrc;

    /**
     * @param temp the test's temporary folder: the clone goes there, and the runs' working directory
     * @param logs a folder name under target/ for the consoles
     */
    ImsrcProcesses(Path temp, String logs) {
        this.temp = temp;
        this.logs = Path.of("target", logs).toAbsolutePath();
    }

    /** One run of {@code imsrc} and what it printed. */
    record Run(Process process, Path stdout, Path stderr) {
        String console() throws IOException {
            return Files.readString(stdout, StandardCharsets.UTF_8);
        }

        /** Standard error: the log, and the warnings and errors meant for the user. */
        String errors() throws IOException {
            return Files.readString(stderr, StandardCharsets.UTF_8);
        }
    }

    /** Runs {@code bin/imsrc ARGS} with {@code env} (and none of the test's own DB_, KAFKA_, FLINK_, MODEL_ settings). */
    Run start(Map<String, String> env, String name, String... args) throws IOException {
        Files.createDirectories(logs);
        Path stdout = logs.resolve(name + ".out");
        if (imsrc == null) {
            imsrc = checkout();
        }
        List<String> command = new ArrayList<>(List.of(imsrc.toString()));
        command.addAll(List.of(args));
        // The README's command itself: bin/imsrc runs the launcher on its runtime class path (not the
        // test's), as a user's shell does.
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(temp.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(logs.resolve(name + ".err").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("DB_") || k.startsWith("KAFKA_") || k.startsWith("FLINK_")
                || k.startsWith("MODEL_"));
        builder.environment().putAll(env);
        builder.environment().put("JAVA_OPTS", "-Xmx1g");
        builder.environment().remove("IMSRC_REBUILD");
        Process process = builder.start();
        started.add(process);
        return new Run(process, stdout, logs.resolve(name + ".err"));
    }

    /** bin/imsrc with the launcher's build (its classes and runtime class path) in TEMP/clone/imsrc. */
    private Path checkout() throws IOException {
        Path clone = temp.resolve("clone").resolve("imsrc");
        Files.createDirectories(clone.resolve("bin"));
        Files.copy(REPOSITORY.resolve("bin/imsrc"), clone.resolve("bin/imsrc"), StandardCopyOption.COPY_ATTRIBUTES);
        Path target = Files.createDirectories(clone.resolve("launcher/target"));
        Path built = REPOSITORY.resolve("launcher/target");
        Files.copy(built.resolve("runtime-classpath.txt"), target.resolve("runtime-classpath.txt"));
        Files.createSymbolicLink(target.resolve("classes"), built.resolve("classes"));
        assertThat(clone.resolveSibling("shared")).doesNotExist();
        assertThat(Files.readString(target.resolve("runtime-classpath.txt"))).doesNotContain("/shared/");
        return clone.resolve("bin/imsrc");
    }

    /** Waits for the job and the API to be up and returns the console so far. */
    static String awaitRunning(Run run, ApiClient api, Duration deadline) throws Exception {
        Waiting.until(() -> {
            if (!run.process().isAlive()) {
                throw new AssertionError("imsrc exited with " + run.process().exitValue() + ":\n" + run.console());
            }
            return run.console().contains("running") && api.get("/health/live").status() == 200;
        }, "imsrc to start", deadline);
        return run.console();
    }

    /** SIGTERM, as Ctrl-C: the JVM runs its shutdown hooks and exits. */
    static void stop(Run run) throws Exception {
        run.process().destroy();
        assertThat(run.process().waitFor(3, TimeUnit.MINUTES)).as("imsrc to exit after SIGTERM").isTrue();
        // 143 = killed by SIGTERM after the hooks ran; 0 when main returned first.
        assertThat(run.process().exitValue()).isIn(0, 143);
    }

    /** Every port is free again and no process (the embedded PostgreSQL's) uses the data directory. */
    static void assertEverythingGone(Path data, int... ports) throws Exception {
        Waiting.until(() -> {
            for (int port : ports) {
                if (!Ports.isFree(port)) {
                    return false;
                }
            }
            return true;
        }, "every port to be free: API, dashboard, PostgreSQL, Kafka", Duration.ofSeconds(60));
        Waiting.until(() -> processesMentioning(data).isEmpty(), "no process left that uses the data directory",
                Duration.ofSeconds(60));
    }

    /** Processes whose command line names {@code dir} (the embedded PostgreSQL's server processes do). */
    static List<String> processesMentioning(Path dir) throws IOException {
        List<String> found = new ArrayList<>();
        String needle = dir.toAbsolutePath().toString();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs::iterator) {
                if (!proc.getFileName().toString().matches("\\d+")) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    if (cmdline.contains(needle)) {
                        found.add(proc.getFileName() + ": " + cmdline);
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        }
        return found;
    }

    static String jdbcUrl(String console) {
        Matcher m = JDBC_URL.matcher(console);
        assertThat(m.find()).as(console).isTrue();
        return m.group(1);
    }

    static int port(Pattern pattern, String console, int group) {
        Matcher m = pattern.matcher(console);
        assertThat(m.find()).as(console).isTrue();
        return Integer.parseInt(m.group(group));
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
