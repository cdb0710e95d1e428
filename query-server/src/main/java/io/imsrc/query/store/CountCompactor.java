package io.imsrc.query.store;

import io.imsrc.query.health.SupervisedLoop;
import io.imsrc.query.health.WorkerHealth;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps catalog_counts small: every write to images, vectors, uploads or dead_letters appends a few
 * delta rows there (schema V5), and /status and /categories sum them per request, so their cost
 * grows with the rows between two compactions. Once there are more than {@link Settings#maxRows},
 * it folds them into one row per key with {@code imsrc_compact_counts()}.
 *
 * <p>Every replica compacts: that function is one statement that several may run at once beside
 * any writer without losing or doubling a delta (the migration says why). One that fails, because
 * PostgreSQL is away or, unlikely, because two compactions deadlocked and PostgreSQL chose this one,
 * changes nothing and is tried again on the next turn.
 *
 * <p>Owns one supervised daemon thread ({@link SupervisedLoop}) that looks every {@link
 * Settings#interval}; {@link #close} is idempotent.
 */
public final class CountCompactor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CountCompactor.class);

    /**
     * @param interval how often to look at the number of delta rows
     * @param maxRows how many delta rows to leave alone: a few hundred sum in well under a
     *     millisecond, and compacting fewer would only churn the table
     */
    public record Settings(Duration interval, long maxRows) {

        public Settings {
            Objects.requireNonNull(interval, "interval");
            if (interval.toMillis() < 1) {
                throw new IllegalArgumentException("the compaction interval is at least a millisecond, got " + interval);
            }
            if (maxRows < 0) {
                throw new IllegalArgumentException("maxRows must not be negative, got " + maxRows);
            }
        }

        /**
         * Every 10 s, above 1,000 rows. The job's batches append about two rows per category they
         * touch, so at a few hundred images a second the table stays under a few thousand rows.
         */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(10), 1_000);
        }
    }

    private final DataSource dataSource;
    private final Settings settings;
    private SupervisedLoop loop; // guarded by this

    public CountCompactor(DataSource dataSource, Settings settings) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Starts looking in the background: now, then every {@link Settings#interval}. */
    public synchronized CountCompactor start() {
        if (loop != null) {
            throw new IllegalStateException("the count compactor has started already");
        }
        loop = new SupervisedLoop("imsrc-count-compaction", new WorkerHealth("count compaction",
                "/status and /categories sum more rows", LOG), () -> {
                    compactIfLarge();
                    Thread.sleep(settings.interval().toMillis());
                }).start();
        return this;
    }

    /**
     * Compacts when there are more than {@link Settings#maxRows} delta rows.
     *
     * @return how many rows the compaction removed; 0 when there were not enough to compact
     */
    public long compactIfLarge() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            long rows;
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM catalog_counts")) {
                rs.next();
                rows = rs.getLong(1);
            }
            if (rows <= settings.maxRows()) {
                return 0;
            }
            try (ResultSet rs = s.executeQuery("SELECT imsrc_compact_counts()")) {
                rs.next();
                long removed = rs.getLong(1);
                LOG.debug("Compacted catalog_counts: {} rows, {} fewer", rows, removed);
                return removed;
            }
        }
    }

    @Override
    public synchronized void close() {
        if (loop != null) {
            loop.close();
            loop = null;
        }
    }
}
