package io.imsrc.launcher.console;

import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.launcher.job.DaemonScheduler;
import io.imsrc.launcher.job.FlinkRest;
import java.io.IOException;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints how an ingest advances: images of the bulk sources ingested of the total planned, the
 * rate over the last interval and the time left; then, once the sources are recorded as read to
 * the end, one line at 100% and afterwards only what uploads add.
 *
 * <p>"Ingested" counts an image once the job has dealt with it for good: its vector stored in
 * PostgreSQL by this run (the model's vectors are counted, the job's real output), or found stored
 * before, or rejected as a dead letter (the job's admission counts these two, read through Flink's
 * REST API). A start after a crash reads its source again and finds most of it stored: those count
 * too, so the line reaches the total rather than stopping at what this run added. Owns a daemon
 * thread; {@link #close} stops it.
 */
public final class IngestProgress implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IngestProgress.class);
    /** The admission's counters (ImageAdmissionOperator) of images it did not pass on to be stored. */
    private static final Set<String> HANDLED_WITHOUT_STORING = Set.of("duplicates", "deadLetters");

    private final DatabaseOptions database;
    private final String modelId;
    private final PrintWriter out;
    private final ScheduledExecutorService timer = DaemonScheduler.create("ingest-progress");
    private long start;
    private boolean baselineTaken;
    private long planned;
    private FlinkRest flink;
    private String jobId;
    private BooleanSupplier sourcesRecorded = () -> false;
    private boolean sourcesDone;
    private long lastCount;
    private long lastIngested;
    private long lastTime;

    public IngestProgress(DatabaseOptions database, String modelId, PrintWriter out) {
        this.database = database;
        this.modelId = modelId;
        this.out = out;
    }

    /**
     * Counts the images the job found stored before or rejected, from its metrics.
     *
     * @param recorded whether the bulk sources are recorded as read to the end: the line then ends
     */
    public IngestProgress follow(FlinkRest rest, String job, BooleanSupplier recorded) {
        this.flink = rest;
        this.jobId = job;
        this.sourcesRecorded = recorded;
        return this;
    }

    /**
     * Starts reporting every {@code intervalSeconds}.
     *
     * @param planned images the bounded sources will read
     */
    public IngestProgress start(long planned, long intervalSeconds) throws SQLException {
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
    public IngestProgress baseline() throws SQLException {
        this.start = count();
        this.baselineTaken = true;
        return this;
    }

    /** The model's vectors stored when {@link #baseline} was taken. */
    public long storedBefore() {
        return start;
    }

    /** Vectors this run added. */
    public long stored() throws SQLException {
        return count() - start;
    }

    private void report() {
        try {
            long now = System.nanoTime();
            double seconds = (now - lastTime) / 1e9;
            long count = count();
            long added = count - start;
            long previous = lastCount;
            lastCount = count;
            lastTime = now;
            if (planned > 0 && !sourcesDone) {
                if (sourcesRecorded.getAsBoolean()) {
                    sourcesDone = true;
                    out.printf(Locale.ROOT, "ingested %,d of %,d images (100%%), %,d of them new in this run%n",
                            planned, planned, added);
                    return;
                }
                long ingested = Math.max(lastIngested, Math.min(planned, added + handledWithoutStoring()));
                double rate = (ingested - lastIngested) / seconds;
                boolean complete = ingested == planned;
                if (complete && lastIngested == planned) {
                    return; // said already: waiting for the checkpoint that records the sources
                }
                lastIngested = ingested;
                long left = planned - ingested;
                String eta = complete ? "recording the source at the next checkpoint"
                        : rate > 0 ? formatSeconds(left / rate) + " left" : "? left";
                out.printf(Locale.ROOT, "ingested %,d of %,d images (%.0f%%), %,.0f images/s, %s%n",
                        ingested, planned, 100.0 * ingested / planned, rate, eta);
            } else if (count != previous) { // idle, waiting for uploads: nothing new to say otherwise
                out.printf(Locale.ROOT, "%,d images stored (%,d new in this run), %,.0f images/s%n", count, added,
                        (count - previous) / seconds);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Cannot read the progress from PostgreSQL: {}", e.toString());
        }
    }
    /** Images the job found stored before or rejected; 0 while its metrics cannot be read. */
    private long handledWithoutStoring() {
        if (flink == null) {
            return 0;
        }
        try {
            return flink.operatorMetricSums(jobId, HANDLED_WITHOUT_STORING).values().stream().mapToLong(Long::longValue).sum();
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot read the job's admission counts: {}", e.toString());
            return 0;
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

    public static String formatSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
