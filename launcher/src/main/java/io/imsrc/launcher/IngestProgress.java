package io.imsrc.launcher;

import io.imsrc.ingest.DatabaseOptions;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints how an ingest advances: images stored of the total planned, the rate over the last
 * interval and the time left. Counts the model's vectors in PostgreSQL, the job's real output,
 * rather than anything the job merely read. Owns a daemon thread; {@link #close} stops it.
 */
final class IngestProgress implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IngestProgress.class);

    private final DatabaseOptions database;
    private final String modelId;
    private final PrintStream out;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ingest-progress");
        t.setDaemon(true);
        return t;
    });
    private long start;
    private boolean baselineTaken;
    private long planned;
    private long lastCount;
    private long lastTime;

    IngestProgress(DatabaseOptions database, String modelId, PrintStream out) {
        this.database = database;
        this.modelId = modelId;
        this.out = out;
    }

    /**
     * Starts reporting every {@code intervalSeconds}.
     *
     * @param planned images the bounded sources will add
     */
    IngestProgress start(long planned, long intervalSeconds) throws SQLException {
        this.planned = planned;
        if (!baselineTaken) {
            baseline();
        }
        this.lastCount = start;
        this.lastTime = System.nanoTime();
        timer.scheduleAtFixedRate(this::report, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
        return this;
    }

    /**
     * Counts what is stored before the job starts, so that images the job stores before {@link
     * #start} are counted as this run's.
     */
    IngestProgress baseline() throws SQLException {
        this.start = count();
        this.baselineTaken = true;
        return this;
    }

    long stored() throws SQLException {
        return count() - start;
    }

    private void report() {
        try {
            long now = System.nanoTime();
            long count = count();
            double rate = (count - lastCount) / ((now - lastTime) / 1e9);
            long done = count - start;
            boolean changed = count != lastCount;
            lastCount = count;
            lastTime = now;
            if (!changed && (planned == 0 || done >= planned)) {
                return; // idle, waiting for uploads: nothing new to say
            }
            if (planned > 0 && done < planned) {
                long left = planned - done;
                String eta = rate > 0 ? formatSeconds(left / rate) : "?";
                out.printf(Locale.ROOT, "ingested %,d of %,d images (%.0f%%), %,.0f images/s, %s left%n",
                        done, planned, 100.0 * done / planned, rate, eta);
            } else {
                out.printf(Locale.ROOT, "%,d images stored (%,d new in this run), %,.0f images/s%n", count, done, rate);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Cannot read the progress from PostgreSQL: {}", e.toString());
        }
    }

    private long count() throws SQLException {
        try (Connection c = database.connect();
                PreparedStatement s = c.prepareStatement("SELECT count(*) FROM vectors WHERE model_id = ?")) {
            s.setString(1, modelId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static String formatSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
