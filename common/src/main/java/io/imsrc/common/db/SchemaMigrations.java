package io.imsrc.common.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned SQL migrations of the imsrc schema, applied at start-up by whoever starts first.
 *
 * <p>Each migration is a SQL script on the class path, applied once, in version order, in its own
 * transaction (PostgreSQL's DDL is transactional, so a failed migration leaves nothing behind) and
 * recorded with its checksum in {@value #HISTORY_TABLE}. A session-level advisory lock serialises
 * concurrent starters (the job and the query server may start together). A database that holds a
 * migration whose script has since changed, or a version this build does not know, is refused:
 * running on a schema that is not the one the code was written for would corrupt data quietly.
 *
 * <p>Add a migration by adding a script {@code V<n>__<description>.sql} beside the others and a
 * line to {@link #ALL}; never edit a script that has been released.
 */
public final class SchemaMigrations {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrations.class);

    public static final String HISTORY_TABLE = "imsrc_schema_history";

    /** An arbitrary constant naming imsrc's migration lock among PostgreSQL's advisory locks. */
    static final long LOCK_KEY = 0x696d737263L; // "imsrc"

    /**
     * One versioned script.
     *
     * @param formerChecksums checksums of earlier texts of the script that differ from today's in
     *     comments only: databases migrated with them are accepted. A changed statement is never
     *     listed here; it is a new script.
     */
    public record Migration(int version, String description, String resource, Set<String> formerChecksums) {
        public Migration {
            if (version < 1) {
                throw new IllegalArgumentException("migration versions start at 1, got " + version);
            }
            formerChecksums = Set.copyOf(formerChecksums);
        }

        Migration(int version, String description, String resource) {
            this(version, description, resource, Set.of());
        }

        /** Whether a database that recorded {@code recorded} for this version ran this script. */
        boolean accepts(String recorded) {
            return checksum(sql()).equals(recorded) || formerChecksums.contains(recorded);
        }

        String sql() {
            try (InputStream in = SchemaMigrations.class.getResourceAsStream("migration/" + resource)) {
                if (in == null) {
                    throw new IllegalStateException("Migration script missing from the class path: " + resource);
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("Could not read migration script " + resource, e);
            }
        }

        static String checksum(String sql) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(sql.getBytes(StandardCharsets.UTF_8));
                return HexFormat.of().formatHex(digest);
            } catch (NoSuchAlgorithmException e) {
                throw new AssertionError("SHA-256 is required of every JVM", e);
            }
        }
    }

    /** Every migration, in version order. */
    public static final List<Migration> ALL = List.of(
            // Its first text cited, in two comments, a brief that is not in the repository.
            new Migration(1, "initial schema", "V1__initial_schema.sql",
                    Set.of("52905a3effa325b3d64829db69a8dfdc11c905d15c5670ff0e5f6445335f748c")),
            new Migration(2, "notify vector changes", "V2__notify_vector_changes.sql"),
            new Migration(3, "ingested sources", "V3__ingested_sources.sql"),
            new Migration(4, "upload publication", "V4__upload_publication.sql"),
            new Migration(5, "maintained counts", "V5__maintained_counts.sql"));

    private SchemaMigrations() {}

    /** The version the schema has once {@link #migrate} has run. */
    public static int latestVersion() {
        return ALL.get(ALL.size() - 1).version();
    }

    /**
     * Brings the database's schema up to {@link #latestVersion()}.
     *
     * @return the versions applied by this call, empty when the schema was already current
     * @throws IllegalStateException when the database holds a migration this build does not know or
     *     one whose script changed
     */
    public static List<Integer> migrate(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return migrate(c);
        }
    }

    /**
     * As {@link #migrate(DataSource)} on a connection the caller owns; autocommit, the statement
     * timeout and the network timeout are restored. A migration runs without the last two: waiting
     * for another process's migration (the advisory lock) or rewriting a large table may take
     * longer than a request's timeouts, and failing there would fail every start after it.
     */
    public static List<Integer> migrate(Connection c) throws SQLException {
        return migrate(c, latestVersion());
    }

    /**
     * As {@link #migrate(Connection)}, stopping after version {@code target}: for the tests of a
     * migration over data written before it.
     */
    static List<Integer> migrate(Connection c, int target) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        int networkTimeout = c.getNetworkTimeout();
        c.setAutoCommit(true);
        c.setNetworkTimeout(Runnable::run, 0);
        try (Statement s = c.createStatement()) {
            String statementTimeout;
            try (ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
                rs.next();
                statementTimeout = rs.getString(1);
            }
            s.execute("SET statement_timeout = 0");
            try {
                s.execute("SELECT pg_advisory_lock(" + LOCK_KEY + ")");
                try {
                    return migrateLocked(c, target);
                } finally {
                    c.setAutoCommit(true);
                    s.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
                }
            } finally {
                s.execute("SET statement_timeout = '" + statementTimeout.replace("'", "''") + "'");
            }
        } finally {
            c.setNetworkTimeout(Runnable::run, networkTimeout);
            c.setAutoCommit(autoCommit);
        }
    }

    private static List<Integer> migrateLocked(Connection c, int target) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + HISTORY_TABLE + " ("
                    + "version integer PRIMARY KEY, description text NOT NULL, checksum text NOT NULL, "
                    + "applied_at timestamptz NOT NULL DEFAULT now())");
        }
        Map<Integer, String> applied = appliedChecksums(c);
        for (var entry : applied.entrySet()) {
            Migration known = ALL.stream().filter(m -> m.version() == entry.getKey()).findFirst().orElse(null);
            if (known == null) {
                throw new IllegalStateException("The database's schema has version " + entry.getKey()
                        + ", which this build of imsrc does not know (it knows up to " + latestVersion()
                        + "): run a newer imsrc against this database.");
            }
            if (!known.accepts(entry.getValue())) {
                throw new IllegalStateException("Migration V" + known.version() + " (" + known.description()
                        + ") was applied from a different script than this build's " + known.resource()
                        + ": released migrations must never change.");
            }
        }
        List<Integer> done = new ArrayList<>();
        for (Migration m : ALL) {
            if (applied.containsKey(m.version()) || m.version() > target) {
                continue;
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement();
                    PreparedStatement record = c.prepareStatement(
                            "INSERT INTO " + HISTORY_TABLE + " (version, description, checksum) VALUES (?, ?, ?)")) {
                String sql = m.sql();
                s.execute(sql);
                record.setInt(1, m.version());
                record.setString(2, m.description());
                record.setString(3, Migration.checksum(sql));
                record.executeUpdate();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw new SQLException("Migration V" + m.version() + " (" + m.description() + ") failed: "
                        + e.getMessage(), e);
            } finally {
                c.setAutoCommit(true);
            }
            LOG.info("Applied schema migration V{} ({})", m.version(), m.description());
            done.add(m.version());
        }
        return done;
    }

    private static Map<Integer, String> appliedChecksums(Connection c) throws SQLException {
        Map<Integer, String> applied = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT version, checksum FROM " + HISTORY_TABLE + " ORDER BY version")) {
            while (rs.next()) {
                applied.put(rs.getInt(1), rs.getString(2));
            }
        }
        return applied;
    }
}
