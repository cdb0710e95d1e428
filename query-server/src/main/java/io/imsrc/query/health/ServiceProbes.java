package io.imsrc.query.health;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether PostgreSQL and Kafka answer, asked in the background so that no request waits on a
 * service that does not: every web page polls /status, and a dead broker used to cost each poll
 * the broker check's own 3 s. The last answer is kept and read without waiting.
 *
 * <p>Asked once when started, so the first /status already knows, then every {@link #INTERVAL} on a
 * supervised daemon thread ({@link SupervisedLoop}); a reading is therefore at most the interval
 * plus one check old.
 *
 * <p>Thread-safe: the readings are immutable and published through volatile fields.
 */
public final class ServiceProbes implements AutoCloseable {

    static final Duration INTERVAL = Duration.ofSeconds(2);
    private static final Logger LOG = LoggerFactory.getLogger(ServiceProbes.class);
    private static final int POSTGRES_TIMEOUT_SECONDS = 2;

    /** One service's last answer: whether it answered, and if not, why in words. */
    public record Reading(boolean reachable, String problem) {

        static final Reading OK = new Reading(true, null);
    }

    private final DataSource postgres;
    private final BooleanSupplier kafka;
    private volatile Reading postgresReading = Reading.OK;
    private volatile Reading kafkaReading;
    private SupervisedLoop loop; // guarded by this

    /**
     * @param postgres the pool the server queries through
     * @param kafka whether a Kafka broker answers within its own timeout; null when uploads are off
     */
    public ServiceProbes(DataSource postgres, BooleanSupplier kafka) {
        this.postgres = Objects.requireNonNull(postgres, "postgres");
        this.kafka = kafka;
    }

    /** Asks both services now, then every {@link #INTERVAL} in the background. */
    public synchronized ServiceProbes start() {
        if (loop != null) {
            throw new IllegalStateException("the service probes have started already");
        }
        probe();
        loop = new SupervisedLoop("imsrc-service-probes", new WorkerHealth("service probes",
                "/status reports the services' last known state", LOG), () -> {
                    Thread.sleep(INTERVAL.toMillis());
                    probe();
                }).start();
        return this;
    }

    private void probe() {
        postgresReading = askPostgres();
        if (kafka != null) {
            kafkaReading = kafka.getAsBoolean() ? Reading.OK : new Reading(false, "no broker answered within 3 s");
        }
    }

    private Reading askPostgres() {
        try (Connection c = postgres.getConnection()) {
            return c.isValid(POSTGRES_TIMEOUT_SECONDS) ? Reading.OK
                    : new Reading(false, "PostgreSQL did not answer within " + POSTGRES_TIMEOUT_SECONDS + " s");
        } catch (SQLException e) {
            return new Reading(false, e.getMessage());
        }
    }

    /** PostgreSQL's last answer. */
    public Reading postgres() {
        return postgresReading;
    }

    /** Kafka's last answer, or null when uploads are off. */
    public Reading kafka() {
        return kafkaReading;
    }

    @Override
    public synchronized void close() {
        if (loop != null) {
            loop.close();
        }
    }
}
