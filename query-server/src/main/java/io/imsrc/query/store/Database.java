package io.imsrc.query.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The query server's PostgreSQL: a small connection pool for requests and the index manager's
 * reads, and dedicated connections for LISTEN (a listening connection must not go back to a pool).
 *
 * <p>Owns the pool; {@link #close} closes it, idempotently.
 */
public final class Database implements AutoCloseable {

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final HikariDataSource pool;

    /**
     * @param password {@code null} for none
     * @param poolSize the most connections requests hold at once
     */
    public Database(String jdbcUrl, String user, String password, int poolSize) {
        this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        this.user = Objects.requireNonNull(user, "user");
        this.password = password;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(user);
        if (password != null) {
            config.setPassword(password);
        }
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(1);
        config.setPoolName("imsrc-query");
        // A request that finds PostgreSQL down answers 503 within seconds, not after half a minute.
        config.setConnectionTimeout(5_000);
        config.setInitializationFailTimeout(-1);
        this.pool = new HikariDataSource(config);
    }

    public DataSource pool() {
        return pool;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** A connection of its own, outside the pool, owned by the caller (for LISTEN). */
    public Connection dedicatedConnection() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, user, password == null ? "" : password);
    }

    @Override
    public void close() {
        pool.close();
    }
}
