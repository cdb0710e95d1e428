package io.imsrc.query.upload;

import io.imsrc.common.config.ImsrcConfig.UploadsConfig;
import io.imsrc.common.record.Rejection;
import io.imsrc.query.health.SupervisedLoop;
import io.imsrc.query.health.WorkerHealth;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives up on uploads that stay queued too long, so that none stays queued for ever.
 *
 * <p>An upload is recorded as queued before it is published to Kafka, and its row gets {@code
 * published_at} once Kafka has acknowledged it ({@link io.imsrc.query.store.Catalog#markPublished}).
 * The bytes live only in the memory of the server that received them until Kafka has them, so an
 * upload whose server stopped in between can never be published again: after {@link
 * Deadlines#publish} without {@code published_at} it is marked rejected, NOT_PUBLISHED. A published
 * upload is the ingest job's to store, however long the job is down; only after {@link
 * Deadlines#ingest} (the record may have left the topic by then) is it marked rejected,
 * NOT_INGESTED. Either gets a dead letter whose detail tells the user to upload again, and the
 * job's write makes it indexed should it be stored after all.
 *
 * <p>One statement does it, with PostgreSQL's clock on both sides of each comparison: an UPDATE
 * whose WHERE clause PostgreSQL evaluates again on a row another transaction changed meanwhile, so
 * replicas that sweep at once, or the job storing the upload at that moment, cannot mark an upload
 * twice or mark one that is no longer queued.
 *
 * <p>Owns one supervised daemon thread ({@link SupervisedLoop}) that sweeps at start and then
 * every {@link Deadlines#interval}; a failed sweep (PostgreSQL down) is logged once and tried again
 * with a backoff. {@link #close} is idempotent.
 */
public final class QueuedUploadSweeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueuedUploadSweeper.class);

    /**
     * @param publish how long a queued upload may wait for Kafka's acknowledgement
     *     (UPLOAD_PUBLISH_DEADLINE_MS); longer than any publication waits, or one under way would be
     *     given up
     * @param ingest how long a published upload may wait for the job (UPLOAD_INGEST_DEADLINE_MS)
     */
    public record Deadlines(Duration publish, Duration ingest) {

        public Deadlines {
            Objects.requireNonNull(publish, "publish");
            Objects.requireNonNull(ingest, "ingest");
            if (publish.toSeconds() < 1 || ingest.toSeconds() < 1) {
                throw new IllegalArgumentException("upload deadlines are at least a second, got " + publish + " and "
                        + ingest);
            }
        }

        /** UPLOAD_PUBLISH_DEADLINE_MS and UPLOAD_INGEST_DEADLINE_MS as the configuration has them. */
        public static Deadlines of(UploadsConfig config) {
            return new Deadlines(Duration.ofMillis(config.publishDeadlineMs()), Duration.ofMillis(config.ingestDeadlineMs()));
        }

        /** UPLOAD_PUBLISH_DEADLINE_MS and UPLOAD_INGEST_DEADLINE_MS's defaults: 5 minutes and 7 days. */
        public static Deadlines defaults() {
            return new Deadlines(Duration.ofMinutes(5), Duration.ofDays(7));
        }

        /** How often to sweep: a tenth of the publish deadline, between a second and a minute. */
        public Duration interval() {
            long millis = Math.max(1_000, Math.min(60_000, publish.toMillis() / 10));
            return Duration.ofMillis(millis);
        }
    }

    static final String SQL = """
            WITH failed AS (
                UPDATE uploads
                SET state = 'rejected',
                    reason = CASE WHEN published_at IS NULL THEN ? ELSE ? END,
                    updated_at = now()
                WHERE state = 'queued'
                  AND (published_at IS NULL AND updated_at < now() - make_interval(secs => ?)
                       OR published_at < now() - make_interval(secs => ?))
                RETURNING image_id, original_name, reason
            ),
            letter AS (
                INSERT INTO dead_letters (source, image_id, original_name, reason, detail, record_key)
                SELECT 'upload', image_id, original_name, reason, CASE WHEN reason = ? THEN ? ELSE ? END, image_id::text
                FROM failed
                ON CONFLICT (source, record_key, reason) DO NOTHING
            )
            SELECT count(*) FROM failed
            """;

    private final DataSource dataSource;
    private final Deadlines deadlines;
    private SupervisedLoop loop; // guarded by this

    public QueuedUploadSweeper(DataSource dataSource, Deadlines deadlines) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.deadlines = Objects.requireNonNull(deadlines, "deadlines");
    }

    /** Starts sweeping in the background: now, then every {@link Deadlines#interval}. */
    public synchronized QueuedUploadSweeper start() {
        if (loop != null) {
            throw new IllegalStateException("the sweeper has started already");
        }
        // A failed sweep (PostgreSQL away) is logged once and tried again with a backoff.
        loop = new SupervisedLoop("imsrc-queued-upload-sweep", new WorkerHealth("queued-upload sweep",
                "uploads left queued are given up later", LOG), () -> {
                    sweep();
                    Thread.sleep(deadlines.interval().toMillis());
                }).start();
        return this;
    }

    /**
     * Marks the uploads queued past their deadline rejected, now.
     *
     * @return how many it marked
     */
    public int sweep() throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(SQL)) {
            int p = 1;
            s.setString(p++, Rejection.NOT_PUBLISHED.name());
            s.setString(p++, Rejection.NOT_INGESTED.name());
            s.setDouble(p++, deadlines.publish().toMillis() / 1000.0);
            s.setDouble(p++, deadlines.ingest().toMillis() / 1000.0);
            s.setString(p++, Rejection.NOT_PUBLISHED.name());
            s.setString(p++, "the upload never reached Kafka within " + describe(deadlines.publish())
                    + " (the server that received it stopped before Kafka had it); upload it again");
            s.setString(p, "Kafka had the upload but the ingest job had not stored it after " + describe(deadlines.ingest())
                    + " (the job is down, or the record left the topic); upload it again");
            int marked;
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                marked = rs.getInt(1);
            }
            if (marked > 0) {
                LOG.warn("Gave up on {} queued uploads (NOT_PUBLISHED after {}, NOT_INGESTED after {}); their dead letters "
                        + "say why", marked, describe(deadlines.publish()), describe(deadlines.ingest()));
            }
            return marked;
        }
    }

    static String describe(Duration d) {
        if (d.toDays() > 0 && d.equals(Duration.ofDays(d.toDays()))) {
            return d.toDays() + (d.toDays() == 1 ? " day" : " days");
        }
        if (d.toMinutes() > 0 && d.equals(Duration.ofMinutes(d.toMinutes()))) {
            return d.toMinutes() + (d.toMinutes() == 1 ? " minute" : " minutes");
        }
        return d.toSeconds() + " s";
    }

    @Override
    public synchronized void close() {
        if (loop != null) {
            loop.close();
            loop = null;
        }
    }
}
