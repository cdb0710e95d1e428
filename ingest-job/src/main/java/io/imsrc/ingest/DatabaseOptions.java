package io.imsrc.ingest;

import io.imsrc.common.config.ImsrcConfig.DatabaseConfig;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import org.apache.flink.connector.jdbc.JdbcConnectionOptions;

/**
 * Where the job's PostgreSQL is: serializable, so the operators that bootstrap from it and the
 * JDBC sinks carry it to the task managers.
 *
 * @param password {@code null} for none
 */
public record DatabaseOptions(String jdbcUrl, String user, String password) implements Serializable {

    public DatabaseOptions {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("imsrc stores into PostgreSQL; expected a jdbc:postgresql: URL, got " + jdbcUrl);
        }
    }

    /** An external server's settings (DB_HOST...); the embedded server's are known once it runs. */
    public static DatabaseOptions of(DatabaseConfig config) {
        return new DatabaseOptions(config.jdbcUrl(), config.user(), config.password());
    }

    /** The connection settings of the Flink JDBC connector's sinks. */
    public JdbcConnectionOptions connectionOptions() {
        var builder = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
                .withUrl(jdbcUrl)
                .withDriverName("org.postgresql.Driver")
                .withUsername(user)
                .withConnectionCheckTimeoutSeconds(30);
        if (password != null) {
            builder.withPassword(password);
        }
        return builder.build();
    }

    /** A new connection, owned by the caller. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, user, password == null ? "" : password);
    }

    @Override
    public String toString() {
        return "DatabaseOptions[" + jdbcUrl + ", user=" + user + ", password=" + (password == null ? "(none)" : "(set)") + "]";
    }
}
