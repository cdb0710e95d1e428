package io.imsrc.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an embedded PostgreSQL from outliving the process that started it, and clears one that did.
 *
 * <p>PostgreSQL runs as a separate process ({@code pg_ctl} puts it in a session of its own), so a
 * launcher killed with SIGKILL leaves it running on its data directory, and the next start cannot
 * take that directory. Two measures, both keyed on the data directory's {@code postmaster.pid}:
 *
 * <ul>
 *   <li>{@link #claim} before a start: an exclusive lock on {@code DIR.lock} beside the data
 *       directory, held for the server's life. The operating system releases it when the owner
 *       dies, however it dies, so holding it proves that no living process owns a server there: a
 *       second imsrc on the same DATA_DIR is refused instead of having its database stopped.
 *   <li>{@link #stopLeftover} once claimed: a postmaster still alive on the directory (the pid in
 *       the file is a live {@code postgres} process) gets a fast shutdown (SIGINT: open transactions
 *       roll back, the WAL is flushed, nothing committed is lost) and is waited for; one that does
 *       not stop within the deadline gets an immediate shutdown (SIGQUIT; the next start recovers
 *       from the WAL). A file whose pid is dead, or belongs to a process whose program cannot be
 *       read (another user's), is left to PostgreSQL, whose own check (the pid and the shared
 *       memory segment) is the safe judge of it; a file whose pid now belongs to another program
 *       (the pid was reused after a reboot) is stale and is removed.
 *   <li>{@link #watch} after a start: a small {@code sh} loop outside the JVM that checks every
 *       second whether the JVM still lives and, once it does not, gives the postmaster its fast
 *       shutdown. An orderly close stops the loop first.
 * </ul>
 *
 * <p>Unix only (the embedded server is too): it needs {@code sh} and {@code kill}.
 */
final class PostmasterGuard {

    private static final Logger LOG = LoggerFactory.getLogger(PostmasterGuard.class);
    private static final String PID_FILE = "postmaster.pid";

    private PostmasterGuard() {}

    /**
     * Claims {@code dataDirectory} for this process until the returned lock is closed.
     *
     * @throws IllegalStateException when another living process holds it (another imsrc on the
     *     same data)
     */
    static AutoCloseable claim(Path dataDirectory) {
        Path lockFile = dataDirectory.resolveSibling(dataDirectory.getFileName() + ".lock");
        FileChannel channel = null;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                FileChannel owned = channel;
                return () -> {
                    lock.release();
                    owned.close();
                };
            }
        } catch (OverlappingFileLockException e) {
            // held by this very JVM: another server object on the same directory
        } catch (IOException e) {
            closeQuietly(channel);
            throw new IllegalStateException("cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
        closeQuietly(channel);
        throw new IllegalStateException("another process runs PostgreSQL on " + dataDirectory + " (it holds " + lockFile
                + "): stop the other imsrc that uses this DATA_DIR, or give this one another DATA_DIR or DB_HOST");
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("Cannot close {}: {}", channel, e.toString());
            }
        }
    }

    /**
     * Stops a PostgreSQL left running on {@code dataDirectory} by a process that is gone. Call it
     * only while holding {@link #claim}: then any postmaster there is a leftover.
     *
     * @return whether one was found and stopped
     * @throws IllegalStateException when it does not stop even after SIGQUIT
     */
    static boolean stopLeftover(Path dataDirectory, Duration deadline) {
        OptionalLong pid = postmasterPid(dataDirectory);
        if (pid.isEmpty()) {
            return false;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid.getAsLong()).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return false; // PostgreSQL's own start judges a dead pid (and any orphaned backends)
        }
        Optional<String> program = process.get().info().command();
        if (program.isEmpty()) {
            return false; // another user's process: not ours to stop; PostgreSQL's own check decides
        }
        if (!isPostgres(program.get())) {
            Path file = dataDirectory.resolve(PID_FILE);
            LOG.warn("{} names pid {}, which is now {}; the file is stale, removing it", file, pid.getAsLong(),
                    program.get());
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new IllegalStateException("cannot remove the stale " + file + ": " + e.getMessage(), e);
            }
            return false;
        }
        LOG.warn("A PostgreSQL (pid {}) left running by an earlier process still holds {}; stopping it (fast shutdown)",
                pid.getAsLong(), dataDirectory);
        signal(pid.getAsLong(), "INT");
        if (awaitExit(process.get(), deadline)) {
            return true;
        }
        LOG.warn("PostgreSQL (pid {}) did not stop within {} s; immediate shutdown", pid.getAsLong(), deadline.toSeconds());
        signal(pid.getAsLong(), "QUIT");
        if (awaitExit(process.get(), deadline)) {
            return true;
        }
        throw new IllegalStateException("the PostgreSQL (pid " + pid.getAsLong() + ") left running on " + dataDirectory
                + " does not stop; stop it by hand (kill " + pid.getAsLong() + ") and start again");
    }

    /**
     * Starts the watcher that stops the postmaster of {@code dataDirectory} once this JVM is gone.
     *
     * @return the watcher, to {@link Process#destroy} on an orderly stop; empty when the directory
     *     names no postmaster or the watcher cannot be started (logged: the server still runs)
     */
    static Optional<Process> watch(Path dataDirectory) {
        OptionalLong pid = postmasterPid(dataDirectory);
        if (pid.isEmpty()) {
            LOG.warn("No postmaster.pid in {}; PostgreSQL will not be stopped if this process is killed", dataDirectory);
            return Optional.empty();
        }
        String loop = "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill -INT \"$2\" 2>/dev/null";
        try {
            Process watcher = new ProcessBuilder("sh", "-c", loop, "imsrc-postgres-guard",
                    Long.toString(ProcessHandle.current().pid()), Long.toString(pid.getAsLong()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return Optional.of(watcher);
        } catch (IOException e) {
            LOG.warn("Cannot start the watcher that stops PostgreSQL if this process is killed: {}", e.toString());
            return Optional.empty();
        }
    }

    /** The postmaster's pid from the first line of the directory's {@code postmaster.pid}, if any. */
    static OptionalLong postmasterPid(Path dataDirectory) {
        try {
            List<String> lines = Files.readAllLines(dataDirectory.resolve(PID_FILE), StandardCharsets.UTF_8);
            if (!lines.isEmpty()) {
                return OptionalLong.of(Long.parseLong(lines.get(0).trim()));
            }
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            LOG.warn("Cannot read {}: {}", dataDirectory.resolve(PID_FILE), e.toString());
        }
        return OptionalLong.empty();
    }

    /** {@code program}: /proc/PID/exe, the postgres binary wherever zonky unpacked it. */
    private static boolean isPostgres(String program) {
        return Path.of(program).getFileName().toString().startsWith("postgres");
    }

    private static void signal(long pid, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot signal PostgreSQL (pid " + pid + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling PostgreSQL (pid " + pid + ")", e);
        }
    }

    private static boolean awaitExit(ProcessHandle process, Duration deadline) {
        try {
            process.onExit().get(deadline.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return !process.isAlive();
        }
    }
}
