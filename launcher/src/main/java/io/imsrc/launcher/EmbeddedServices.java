package io.imsrc.launcher;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.embedded.EmbeddedKafkaBroker;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.ingest.DatabaseOptions;
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
final class EmbeddedServices implements AutoCloseable {

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
     */
    static EmbeddedServices start(ImsrcConfig config, boolean needKafka) throws SQLException {
        EmbeddedPostgresServer postgres = null;
        EmbeddedKafkaBroker kafka = null;
        try {
            DatabaseOptions database;
            var db = config.database();
            if (db.embedded()) {
                Path dir = config.dataDir().resolve("postgres").toAbsolutePath();
                postgres = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                        .withDataDirectory(dir).withDatabase(db.name()));
                database = new DatabaseOptions(postgres.jdbcUrl(), postgres.user(), null);
            } else {
                database = new DatabaseOptions(db.jdbcUrl(), db.user(), db.password());
            }
            try (Connection c = DriverManager.getConnection(database.jdbcUrl(), database.user(),
                    database.password() == null ? "" : database.password())) {
                SchemaMigrations.migrate(c);
            }
            String kafkaServers = null;
            if (needKafka) {
                if (config.kafka().embedded()) {
                    long maxRecord = UploadRecordCodec.maxRecordBytes(config.search().maxUploadSize());
                    kafka = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults()
                            .withDataDirectory(config.dataDir().resolve("kafka").toAbsolutePath())
                            .withMaxMessageBytes((int) Math.max(maxRecord, EmbeddedKafkaBroker.Options.defaults().maxMessageBytes())));
                    kafkaServers = kafka.bootstrapServers();
                } else {
                    kafkaServers = config.kafka().bootstrapServers();
                }
            }
            return new EmbeddedServices(postgres, kafka, database, kafkaServers);
        } catch (SQLException | RuntimeException e) {
            for (AutoCloseable started : new AutoCloseable[] {kafka, postgres}) {
                if (started != null) {
                    RuntimeException more = Closeables.close(started, null);
                    if (more != null) {
                        e.addSuppressed(more);
                    }
                }
            }
            throw e;
        }
    }

    DatabaseOptions database() {
        return database;
    }

    /** The Kafka cluster, or {@code null} when Kafka was not asked for. */
    String kafkaBootstrapServers() {
        return kafkaBootstrapServers;
    }

    boolean embeddedPostgres() {
        return postgres != null;
    }

    boolean embeddedKafka() {
        return kafka != null;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        if (kafka != null) {
            failure = Closeables.close(kafka, null);
        }
        if (postgres != null) {
            failure = Closeables.close(postgres, failure);
        }
        if (failure != null) {
            throw failure;
        }
        LOG.info("Embedded services stopped");
    }
}
