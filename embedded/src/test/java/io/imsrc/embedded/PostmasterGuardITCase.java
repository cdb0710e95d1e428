package io.imsrc.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedded PostgreSQL does not outlive the process that started it, and a start clears one that
 * did: the owner is a real child JVM killed with SIGKILL.
 */
class PostmasterGuardITCase {

    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @TempDir Path temp;
    private Process owner;
    private long postmaster = -1;

    @AfterEach
    void killWhatIsLeft() {
        if (owner != null) {
            owner.descendants().forEach(ProcessHandle::destroyForcibly);
            owner.destroyForcibly();
        }
        if (postmaster > 0) {
            ProcessHandle.of(postmaster).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void the_server_stops_when_its_owner_is_killed() throws Exception {
        Path data = temp.resolve("pg");
        startOwner(data);
        ProcessHandle server = ProcessHandle.of(postmaster).orElseThrow();

        owner.destroyForcibly(); // SIGKILL: no hook runs

        server.onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        assertThat(server.isAlive()).isFalse();
        assertThat(data.resolve("postmaster.pid")).as("a fast shutdown removes its pid file").doesNotExist();
        assertRowSurvives(data);
    }

    @Test
    void a_start_stops_a_server_left_running_on_its_directory() throws Exception {
        Path data = temp.resolve("pg");
        startOwner(data);
        // Kill the guard first, then the owner: the server is left running, as after kill -9 of a
        // whole process group that spared only PostgreSQL's own session.
        List<ProcessHandle> guards = owner.descendants().toList();
        assertThat(guards).as("the guard runs beside the owner").isNotEmpty();
        guards.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle guard : guards) {
            guard.onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        owner.destroyForcibly();
        owner.onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        ProcessHandle leftover = ProcessHandle.of(postmaster).orElseThrow();
        assertThat(leftover.isAlive()).as("PostgreSQL outlived its owner").isTrue();

        assertRowSurvives(data);

        assertThat(leftover.isAlive()).as("the start stopped the leftover server").isFalse();
    }

    @Test
    void a_second_start_on_a_directory_a_living_process_owns_is_refused_and_stops_nothing() throws Exception {
        Path data = temp.resolve("pg");
        startOwner(data);

        assertThatThrownBy(() -> EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                        .withDataDirectory(data).withDatabase("owned")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("another process runs PostgreSQL on " + data)
                .hasMessageContaining("DATA_DIR");
        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).as("the owner's server runs on").contains(true);
    }

    @Test
    void a_pid_file_naming_another_program_is_stale() throws Exception {
        Path data = temp.resolve("pg");
        startOwner(data);
        owner.destroyForcibly();
        ProcessHandle.of(postmaster).orElseThrow().onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        // As after a reboot: the pid in the file now belongs to some other, living program (this JVM).
        Files.writeString(data.resolve("postmaster.pid"), ProcessHandle.current().pid() + "\n" + data + "\n");

        assertRowSurvives(data);
    }

    private void startOwner(Path data) throws Exception {
        owner = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), PostgresOwner.class.getName(), data.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null && !line.startsWith("ready ")) {
            // log lines before the server is up
        }
        assertThat(line).as("the owner started PostgreSQL").startsWith("ready ");
        OptionalLong pid = PostmasterGuard.postmasterPid(data);
        assertThat(pid).isPresent();
        postmaster = pid.getAsLong();
    }

    private static void assertRowSurvives(Path data) throws Exception {
        try (var server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                        .withDataDirectory(data).withDatabase("owned"));
                Connection c = server.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT v FROM written")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(7);
        }
    }
}
