package io.imsrc.query.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.imsrc.common.config.ImsrcConfig.DatabaseTimeouts;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * The query server's PostgreSQL: a small connection pool for requests and the index manager's
 * reads, and dedicated connections for LISTEN (a listening connection must not go back to a pool).
 *
 * <p>No connection waits for PostgreSQL without a limit ({@link DatabaseTimeouts}): connecting and
 * logging in are bounded by the connect timeout, every read from the server by PgJDBC's socket
 * timeout (a server that hangs, or a connection whose other end is gone without a word, fails the
 * request with an SQLException, which the API answers 503), and each pool statement by
 * PostgreSQL's statement_timeout. TCP keepalive is on, so the operating system also drops a
 * connection whose peer is gone. A listening connection has no statement timeout; its wait for
 * notifications ({@code PGConnection.getNotifications(millis)}) sets its own read timeout for the
 * wait and puts the socket timeout back afterwards, so it may wait as long as it asks.
 *
 * <p>Owns the pool; {@link #close} closes it, idempotently.
 */
public final class Database implements AutoCloseable {

    /** The pool's connections as pg_stat_activity shows them. */
    public static final String POOL_APPLICATION_NAME = "imsrc-query";
    /** The LISTEN connections as pg_stat_activity shows them. */
    public static final String LISTEN_APPLICATION_NAME = "imsrc-query-listen";

    private final String jdbcUrl;
    private final Properties dedicated;
    private final HikariDataSource pool;

    /** A pool with the default timeouts. */
    public Database(String jdbcUrl, String user, String password, int poolSize) {
        this(jdbcUrl, user, password, poolSize, DatabaseTimeouts.DEFAULTS);
    }

    /**
     * @param password {@code null} for none
     * @param poolSize the most connections requests hold at once
     */
    public Database(String jdbcUrl, String user, String password, int poolSize, DatabaseTimeouts timeouts) {
        this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(timeouts, "timeouts");
        this.dedicated = driverProperties(timeouts);
        dedicated.setProperty("ApplicationName", LISTEN_APPLICATION_NAME);
        dedicated.setProperty("user", user);
        dedicated.setProperty("password", password == null ? "" : password);

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(user);
        if (password != null) {
            config.setPassword(password);
        }
        Properties pooled = driverProperties(timeouts);
        pooled.setProperty("ApplicationName", POOL_APPLICATION_NAME);
        if (!timeouts.statement().isZero()) {
            // Set at login (the startup packet), so it costs no round trip.
            pooled.setProperty("options", "-c statement_timeout=" + timeouts.statement().toMillis());
        }
        config.setDataSourceProperties(pooled);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(1);
        config.setPoolName("imsrc-query");
        // A request that finds PostgreSQL down or hung waits at most this for a connection, then
        // answers 503: a pooled connection idle for a moment is checked (isValid) before use, and
        // one that does not answer is thrown away.
        config.setConnectionTimeout(timeouts.connect().toMillis());
        config.setValidationTimeout(Math.min(5_000, timeouts.connect().toMillis()));
        config.setInitializationFailTimeout(-1);
        this.pool = new HikariDataSource(config);
    }

    /** PgJDBC's settings for {@code timeouts}; PgJDBC counts whole seconds, so they are rounded up. */
    private static Properties driverProperties(DatabaseTimeouts timeouts) {
        Properties p = new Properties();
        p.setProperty("connectTimeout", Long.toString(seconds(timeouts.connect())));
        p.setProperty("loginTimeout", Long.toString(seconds(timeouts.connect())));
        p.setProperty("socketTimeout", Long.toString(seconds(timeouts.socket())));
        p.setProperty("tcpKeepAlive", "true");
        return p;
    }

    private static long seconds(Duration d) {
        return (d.toMillis() + 999) / 1000;
    }

    public DataSource pool() {
        return pool;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** A connection of its own, outside the pool, owned by the caller (for LISTEN). */
    public Connection dedicatedConnection() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, dedicated);
    }

    @Override
    public void close() {
        pool.close();
    }
}
