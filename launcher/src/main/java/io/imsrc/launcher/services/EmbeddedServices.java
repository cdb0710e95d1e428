package io.imsrc.launcher.services;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.embedded.EmbeddedKafkaBroker;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.query.QueryServerOptions;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The services imsrc runs on, started here when the configuration names none: an embedded
 * PostgreSQL (data in DATA_DIR/postgres) unless DB_HOST is set, and an embedded Kafka broker (data
 * in DATA_DIR/kafka) unless KAFKA_BOOTSTRAP_SERVERS is set or Kafka is not needed. The schema is
 * migrated either way.
 *
 * <p>Owns what it started; {@link #close} stops it in reverse order, is idempotent and may be called
 * from a shutdown hook while the main thread is still running.
 */
public final class EmbeddedServices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServices.class);

    private final EmbeddedPostgresServer postgres;
    private final EmbeddedKafkaBroker kafka;
    private final DatabaseOptions database;
    private final String kafkaBootstrapServers;
    private boolean closed;

    private EmbeddedServices(EmbeddedPostgresServer postgres, EmbeddedKafkaBroker kafka, DatabaseOptions database,
            String kafkaBootstrapServers) {
        this.postgres = postgres;
        this.kafka = kafka;
        this.database = database;
        this.kafkaBootstrapServers = kafkaBootstrapServers;
    }

    /**
     * Starts what the configuration leaves to imsrc and migrates the schema.
     *
     * @param needKafka whether the caller reads or writes uploads
     * @throws ServiceStartException when a service cannot be started or reached; its message is
     *     the console's one line, the cause is logged
     */
    public static EmbeddedServices start(ImsrcConfig config, boolean needKafka) throws ServiceStartException {
        EmbeddedPostgresServer postgres = null;
        EmbeddedKafkaBroker kafka = null;
        try {
            DatabaseOptions database;
            var db = config.database();
            if (db.embedded()) {
                Path dir = config.dataDir().resolve("postgres").toAbsolutePath();
                try {
                    postgres = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                            .withDataDirectory(dir).withDatabase(db.name()));
                } catch (RuntimeException e) {
                    throw failed("cannot start the embedded PostgreSQL in " + dir, e,
                            "the log above has PostgreSQL's own words; a server of another user or version may hold "
                                    + "the directory. Set DB_HOST to use another PostgreSQL, or DATA_DIR for other data");
                }
                database = new DatabaseOptions(postgres.jdbcUrl(), postgres.user(), null);
            } else {
                database = new DatabaseOptions(db.jdbcUrl(), db.user(), db.password());
            }
            try (Connection c = DriverManager.getConnection(database.jdbcUrl(), database.user(),
                    database.password() == null ? "" : database.password())) {
                SchemaMigrations.migrate(c);
            } catch (SQLException | RuntimeException e) {
                throw failed("cannot reach or migrate PostgreSQL at " + database.jdbcUrl(), e,
                        db.embedded() ? "see the log above" : "check DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD, "
                                + "and that the server runs");
            }
            String kafkaServers = null;
            if (needKafka) {
                if (config.kafka().embedded()) {
                    long maxRecord = UploadRecordCodec.maxRecordBytes(config.search().maxUploadSize());
                    Path dir = config.dataDir().resolve("kafka").toAbsolutePath();
                    try {
                        kafka = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults()
                                .withDataDirectory(dir)
                                .withMaxMessageBytes((int) Math.max(maxRecord, EmbeddedKafkaBroker.Options.defaults().maxMessageBytes())));
                    } catch (RuntimeException e) {
                        throw failed("cannot start the embedded Kafka broker in " + dir, e,
                                "the log above has the broker's own words; set KAFKA_BOOTSTRAP_SERVERS to use another "
                                        + "Kafka");
                    }
                    kafkaServers = kafka.bootstrapServers();
                } else {
                    kafkaServers = config.kafka().bootstrapServers();
                }
            }
            return new EmbeddedServices(postgres, kafka, database, kafkaServers);
        } catch (ServiceStartException | RuntimeException e) {
            try {
                Closeables.closeAll(kafka, postgres);
            } catch (RuntimeException more) {
                e.addSuppressed(more);
            }
            throw e;
        }
    }

    private static ServiceStartException failed(String what, Throwable cause, String todo) {
        // One line on the console; the trace only where it was asked for (-Dimsrc.log.level=debug).
        LOG.debug("{}", what, cause);
        return new ServiceStartException(what + ": " + ServiceStartException.rootMessage(cause) + " (" + todo + ")", cause);
    }

    public DatabaseOptions database() {
        return database;
    }

    /** The Kafka cluster, or {@code null} when Kafka was not asked for. */
    public String kafkaBootstrapServers() {
        return kafkaBootstrapServers;
    }

    /** What the query server is given of them, with the model and the Flink dashboard's address (or null). */
    public QueryServerOptions.Services forQueryServer(ConfiguredModel model, String flinkDashboardUrl) {
        return new QueryServerOptions.Services(new QueryServerOptions.PostgresLogin(database().jdbcUrl(),
                database().user(), database().password()), kafkaBootstrapServers(), model, flinkDashboardUrl);
    }

    public boolean embeddedPostgres() {
        return postgres != null;
    }

    public boolean embeddedKafka() {
        return kafka != null;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Closeables.closeAll(kafka, postgres); // Kafka before PostgreSQL
            LOG.info("Embedded services stopped");
        }
    }
}
