package io.imsrc.launcher.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a job's bulk sources into the {@link SourceLedger} once every image they held is durably
 * in PostgreSQL, which a job that goes on reading uploads never says by ending. Read from Flink's
 * REST API: every bulk source vertex has FINISHED, and a checkpoint triggered after the last of them
 * finished has completed. A checkpoint of a job whose sources finished carries its barriers behind
 * their last records, and the JDBC sinks flush before they pass a barrier, so by then everything the
 * sources read has been written. A job that ends (bounded sources only) is recorded by its caller
 * ({@link #completeAll}) from the job's result.
 *
 * <p>Owns a daemon thread that polls once a second until the sources are recorded or the job is
 * over; {@link #close} stops it.
 */
public final class SourceCompletion implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SourceCompletion.class);

    /** A bulk source of the job, with the images it will read. */
    public record Source(BulkSourceSpec spec, long images) {}

    private final FlinkRest flink;
    private final String jobId;
    private final List<Source> sources;
    private final SourceLedger ledger;
    private final Consumer<Source> onRecorded;
    private final ScheduledExecutorService timer = DaemonScheduler.create("source-completion");
    private volatile boolean recorded;

    /** @param onRecorded told of each source once it is in the ledger (the console says so) */
    public SourceCompletion(FlinkRest flink, String jobId, List<Source> sources, SourceLedger ledger,
            Consumer<Source> onRecorded) {
        this.flink = flink;
        this.jobId = jobId;
        this.sources = List.copyOf(sources);
        this.ledger = ledger;
        this.onRecorded = onRecorded;
    }

    public SourceCompletion start() {
        if (!sources.isEmpty()) {
            timer.scheduleWithFixedDelay(this::poll, 1, 1, TimeUnit.SECONDS);
        }
        return this;
    }

    /** Whether there is any source to record. */
    public boolean hasSources() {
        return !sources.isEmpty();
    }

    /** Whether the sources are in the ledger. */
    public boolean recorded() {
        return recorded;
    }

    private void poll() {
        try {
            JsonNode job = flink.get("/jobs/" + jobId);
            String state = job.path("state").asText();
            if (state.equals("FINISHED")) {
                completeAll();
                return;
            }
            if (state.equals("FAILED") || state.equals("CANCELED")) {
                timer.shutdown();
                return;
            }
            long lastEnd = 0;
            int bulkVertices = 0;
            for (JsonNode vertex : job.path("vertices")) {
                String name = vertex.path("name").asText();
                if (!name.contains("bulk: ") || name.contains("(watched)")) {
                    continue;
                }
                bulkVertices++;
                if (!vertex.path("status").asText().equals("FINISHED")) {
                    return;
                }
                lastEnd = Math.max(lastEnd, vertex.path("end-time").asLong());
            }
            if (bulkVertices == 0 || lastEnd <= 0) {
                return;
            }
            JsonNode completed = flink.get("/jobs/" + jobId + "/checkpoints").path("latest").path("completed");
            if (!completed.isMissingNode() && !completed.isNull() && completed.path("trigger_timestamp").asLong() > lastEnd) {
                completeAll();
            }
        } catch (Exception e) {
            LOG.debug("Cannot tell yet whether the bulk sources are done: {}", e.toString());
        }
    }

    /** Records every source as read to the end, and stops polling. Idempotent. */
    public synchronized void completeAll() throws java.sql.SQLException {
        if (recorded) {
            return;
        }
        for (Source source : sources) {
            ledger.complete(source.spec(), source.images());
            onRecorded.accept(source);
        }
        recorded = true;
        timer.shutdown();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
