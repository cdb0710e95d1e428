package io.imsrc.query.index;

import io.imsrc.query.health.WorkerHealth;
import io.imsrc.query.store.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The index manager's ear on PostgreSQL: a dedicated connection that LISTENs for the ingest job's
 * notifications (schema V2), so that a vector is searchable within moments of its commit instead
 * of at the next poll.
 *
 * <p>A connection that fails, or that has been quiet for a while and no longer answers (a half-open
 * one would stay quiet for ever), is closed and opened again after a backoff; meanwhile {@link
 * #awaitChange} simply sleeps the poll interval. {@link #health} says which is the case.
 *
 * <p>Confined to the refresh thread, except {@link #health}; {@link #close} once that thread has
 * stopped.
 */
final class ChangeListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IndexManager.class);
    private static final String[] CHANNELS = {"imsrc_vectors", "imsrc_prototypes"};
    /** How long a quiet LISTEN connection goes unchecked: a half-open one would stay quiet for ever. */
    private static final long CHECK_MILLIS = 30_000;

    private final Database database;
    private final Duration pollInterval;
    private final WorkerHealth health;
    private Connection connection;
    private long retryAtMillis;
    private long checkedAtMillis;

    ChangeListener(Database database, Duration pollInterval) {
        this.database = database;
        this.pollInterval = pollInterval;
        this.health = new WorkerHealth("index listener",
                "the index polls PostgreSQL every " + pollInterval.toMillis() + " ms meanwhile", LOG);
    }

    WorkerHealth health() {
        return health;
    }

    /** Opens the LISTEN connection when there is none and its backoff has passed. */
    void listen() {
        long now = System.currentTimeMillis();
        if (connection != null || now < retryAtMillis) {
            return;
        }
        Connection c = null;
        try {
            c = database.dedicatedConnection();
            try (Statement s = c.createStatement()) {
                for (String channel : CHANNELS) {
                    s.execute("LISTEN " + channel);
                }
            }
            connection = c;
            checkedAtMillis = now;
            health.succeeded();
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            retryAtMillis = now + health.failed(e);
        }
    }

    /**
     * Returns on a notification, or after the poll interval. A LISTEN connection that fails, or
     * that has been quiet for a while and no longer answers, is closed, and the wait polls.
     */
    void awaitChange() throws InterruptedException {
        int timeout = (int) Math.max(1, pollInterval.toMillis());
        if (connection != null) {
            try {
                long now = System.currentTimeMillis();
                if (now - checkedAtMillis >= CHECK_MILLIS) {
                    checkedAtMillis = now;
                    if (!connection.isValid(5)) {
                        throw new SQLException("the LISTEN connection does not answer");
                    }
                }
                PGNotification[] heard = connection.unwrap(PGConnection.class).getNotifications(timeout);
                if (heard != null && heard.length > 0) {
                    checkedAtMillis = System.currentTimeMillis();
                }
                return;
            } catch (SQLException | RuntimeException e) {
                connection = closeQuietly(connection);
                retryAtMillis = System.currentTimeMillis() + health.failed(e);
            }
        }
        Thread.sleep(timeout);
    }

    @Override
    public void close() {
        connection = closeQuietly(connection);
    }

    private static Connection closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is being thrown away
            }
        }
        return null;
    }
}
