package io.imsrc.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server started from the zonky binaries on the class path, for the one command and
 * the integration tests.
 *
 * <p>Ownership: whoever calls {@link #start} owns the server and must {@link #close} it; close stops
 * the postgres process and is idempotent. With a data directory given, the cluster's files stay
 * there across restarts (initdb runs only on an empty directory); without one, a temporary
 * directory is used and deleted on close. The server does not outlive this JVM: a guard process
 * stops it when the JVM dies without closing it (SIGKILL included), and a start finds and stops a
 * server that an earlier, killed process left on its data directory ({@link PostmasterGuard}).
 *
 * <p>{@link #stop} and {@link #restart} take the server away and bring it back on the same port
 * and data directory, as an administrator restarting PostgreSQL does, for the tests of what imsrc
 * does while its database is gone. The connection details stay valid across them.
 *
 * <p>Thread-safety: the accessors are safe from any thread; {@link #stop}, {@link #restart} and
 * {@link #close} are serialized, and must not race with {@link #start}'s caller still using the
 * connection details.
 *
 * <p>Over 300 lines because one server's whole life is here (start over a directory a killed
 * process may have left, stop, restart on the same port, close) with its connection details;
 * keeping a server from outliving the JVM is {@link PostmasterGuard}'s.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
    private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Duration LEFTOVER_STOP_DEADLINE = Duration.ofSeconds(60);

    /** The user zonky's initdb creates; it has no password and trusts local connections. */
    public static final String SUPERUSER = "postgres";

    /**
     * How to start the server.
     *
     * @param dataDirectory where the cluster lives, kept across restarts; null for a temporary one
     * @param port the TCP port on 127.0.0.1; 0 picks a free one (zonky's builder does, just before
     *     starting postgres: PostgreSQL cannot be told to bind port 0 and report it, since the port
     *     also names its Unix socket)
     * @param database the database to create if missing and to connect to
     */
    public record Options(Path dataDirectory, int port, String database) {
        public Options {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be within 0..65535 (0 = any free port), got " + port);
            }
            Objects.requireNonNull(database, "database");
            if (!DATABASE_NAME.matcher(database).matches()) {
                throw new IllegalArgumentException(
                        "database must be a plain SQL identifier (letters, digits, underscore), got '" + database + "'");
            }
        }

        /** A temporary cluster on a free port with a database named {@code imsrc}. */
        public static Options defaults() {
            return new Options(null, 0, "imsrc");
        }

        public Options withDataDirectory(Path dir) {
            return new Options(dir, port, database);
        }

        public Options withPort(int newPort) {
            return new Options(dataDirectory, newPort, database);
        }

        public Options withDatabase(String name) {
            return new Options(dataDirectory, port, name);
        }
    }

    private final String database;
    private final Path dataDirectory;
    private final Path temporaryDirectory;
    private final int port;
    // The latest process; its data sources only hold the address, so they outlive a restart.
    private volatile EmbeddedPostgres postgres;
    private Process guard; // guarded by this; null when none could be started
    private final AutoCloseable ownership; // the lock beside a given data directory; null for a temporary one
    private boolean running; // guarded by this
    private boolean closed; // guarded by this

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, String database, Path dataDirectory,
            Path temporaryDirectory, AutoCloseable ownership) {
        this.ownership = ownership;
        this.postgres = postgres;
        this.database = database;
        this.dataDirectory = dataDirectory;
        this.temporaryDirectory = temporaryDirectory;
        this.port = postgres.getPort();
        this.running = true;
        this.guard = PostmasterGuard.watch(dataDirectory).orElse(null);
    }

    /** Starts the server, creating the cluster and the database when they do not exist yet. */
    public static EmbeddedPostgresServer start(Options options) {
        Path temporary = null;
        Path dataDirectory = options.dataDirectory();
        AutoCloseable ownership = null;
        EmbeddedPostgresServer server = null;
        try {
            if (dataDirectory == null) {
                temporary = Files.createTempDirectory("imsrc-pg-");
                dataDirectory = temporary;
            } else {
                Files.createDirectories(dataDirectory);
                ownership = PostmasterGuard.claim(dataDirectory);
                // Claimed: a server still running here was left by a process that is gone (kill -9).
                PostmasterGuard.stopLeftover(dataDirectory, LEFTOVER_STOP_DEADLINE);
            }
            server = new EmbeddedPostgresServer(launch(dataDirectory, options.port()), options.database(), dataDirectory,
                    temporary, ownership);
            server.createDatabaseIfMissing(options.database());
            LOG.info("Embedded PostgreSQL on port {} (data in {})", server.port(), dataDirectory);
            return server;
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close(); // stops it, releases the directory, deletes a temporary one
            } else {
                release(ownership);
                if (temporary != null) {
                    TemporaryDirectories.delete(temporary);
                }
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("Could not start the embedded PostgreSQL in " + dataDirectory, io);
            }
            throw (RuntimeException) e;
        }
    }

    private static void release(AutoCloseable ownership) {
        if (ownership != null) {
            try {
                ownership.close();
            } catch (Exception e) {
                LOG.warn("Cannot release the lock on the data directory: {}", e.toString());
            }
        }
    }

    private static EmbeddedPostgres launch(Path dataDirectory, int port) throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60))
                // The owner closes the server; a JVM hook would race with it.
                .setRegisterShutdownHook(false)
                .setServerConfig("max_connections", "200")
                .start();
    }

    /**
     * Stops the postgres process ({@code pg_ctl stop -m fast}: open connections are cut, committed
     * data is kept), keeping the data directory, even a temporary one, and the port for {@link
     * #restart}. Idempotent.
     */
    public synchronized void stop() {
        if (closed) {
            throw new IllegalStateException("the embedded PostgreSQL is closed");
        }
        if (!running) {
            return;
        }
        running = false;
        stopGuard();
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not stop the embedded PostgreSQL", e);
        }
        LOG.info("Embedded PostgreSQL on port {} stopped", port);
    }

    /**
     * Starts the server again on the same port and data directory, stopping it first when it runs;
     * returns once it accepts connections.
     */
    public synchronized void restart() {
        stop();
        try {
            postgres = launch(dataDirectory, port);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL again in " + dataDirectory, e);
        }
        running = true;
        guard = PostmasterGuard.watch(dataDirectory).orElse(null);
        LOG.info("Embedded PostgreSQL on port {} started again", port);
    }

    /** An orderly stop: the server is stopped here, not by the guard. */
    private synchronized void stopGuard() {
        if (guard != null) {
            guard.destroy();
            guard = null;
        }
    }

    /** Whether the postgres process runs: started and not {@link #stop stopped} or closed. */
    public synchronized boolean running() {
        return running;
    }

    /**
     * Connection details of one database on this server.
     *
     * @param name the database name
     * @param jdbcUrl its JDBC URL; connect as {@code user} without a password
     * @param user the user to connect as
     * @param dataSource opens a new connection on each call
     */
    public record Database(String name, String jdbcUrl, String user, DataSource dataSource) {}

    /** Creates the database {@code name} unless it exists, and returns its connection details. */
    public Database createDatabase(String name) {
        if (!DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "database must be a plain SQL identifier (letters, digits, underscore), got '" + name + "'");
        }
        createDatabaseIfMissing(name);
        return describe(name);
    }

    /** The database named in the options, created at start. */
    public Database defaultDatabase() {
        return describe(database);
    }

    private Database describe(String name) {
        return new Database(
                name, "jdbc:postgresql://" + host() + ":" + port() + "/" + name, SUPERUSER,
                postgres.getDatabase(SUPERUSER, name));
    }

    private void createDatabaseIfMissing(String database) {
        try (Connection c = postgres.getPostgresDatabase().getConnection();
                PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, database);
            try (ResultSet rs = exists.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
            try (Statement create = c.createStatement()) {
                // The name was checked against DATABASE_NAME, so quoting it is enough.
                create.execute("CREATE DATABASE \"" + database + "\"");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create database " + database, e);
        }
    }

    public int port() {
        return port;
    }

    public String host() {
        return "localhost";
    }

    public String database() {
        return database;
    }

    public String user() {
        return SUPERUSER;
    }

    /** The JDBC URL of this server's database; the user is {@link #user()} and has no password. */
    public String jdbcUrl() {
        return defaultDatabase().jdbcUrl();
    }

    /** A data source for the database; each {@code getConnection()} opens a new connection. */
    public DataSource dataSource() {
        return defaultDatabase().dataSource();
    }

    /** Stops the server. Idempotent; a temporary data directory is deleted afterwards. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopGuard();
        try {
            if (running) {
                running = false;
                postgres.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not stop the embedded PostgreSQL", e);
        } finally {
            release(ownership);
            if (temporaryDirectory != null) {
                TemporaryDirectories.delete(temporaryDirectory);
            }
        }
    }
}
