package io.imsrc.launcher;

import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.query.QueryServer;
import io.imsrc.query.QueryServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code imsrc serve}: the query server alone, on the embedded PostgreSQL and Kafka broker of
 * DATA_DIR (or the ones the configuration names), until Ctrl-C. Uploads are published to Kafka; an
 * ingest job must run somewhere to embed them ({@code imsrc ingest} in another terminal, when the
 * services are external, or a Flink cluster).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Runs the query server (API on API_PORT, default 8000; API docs at /docs).",
            "PostgreSQL and Kafka are embedded (data in DATA_DIR) unless DB_HOST and KAFKA_BOOTSTRAP_SERVERS name "
                    + "others. It searches what PostgreSQL holds and publishes uploads for the ingest job."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped", "1:the server failed, or PostgreSQL or Kafka cannot be started or reached",
            "2:bad arguments or settings"})
public final class ServeCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--port", paramLabel = "PORT", description = "The API's port (default: API_PORT, else 8000; 0 = any free port).")
    private Integer port;

    @Option(names = "--no-uploads", description = "Run without Kafka: searches only, POST /upload answers 503.")
    private boolean noUploads;

    private final Settings settings;
    private final PrintStream out;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile EmbeddedServices services;
    private volatile QueryServer server;

    public ServeCommand() {
        this(Settings.fromEnvironment(), System.out);
    }

    ServeCommand(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    @Override
    public Integer call() throws Exception {
        ImsrcConfig config;
        ConfiguredModel model;
        try {
            config = ImsrcConfig.from(settings);
            model = ConfiguredModel.resolve(config);
        } catch (ConfigException | IllegalArgumentException | IOException e) {
            System.err.println("imsrc serve: " + e.getMessage());
            return 2;
        }
        EmbeddedServices services;
        try {
            services = EmbeddedServices.start(config, !noUploads);
        } catch (ServiceStartException e) {
            System.err.println("imsrc serve: " + e.getMessage());
            return 1;
        }
        this.services = services;
        Thread hook = new Thread(this::stop, "imsrc-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            QueryServerOptions options = QueryServerOptions.from(config, new QueryServerOptions.Services(
                    login(services.database()), services.kafkaBootstrapServers(), model, null));
            try {
                server = QueryServer.start(port == null ? options : options.withPort(port));
            } catch (IllegalArgumentException e) {
                System.err.println("imsrc serve: " + e.getMessage());
                return 2;
            }
            String base = "http://localhost:" + server.port();
            out.println("imsrc serve: query server running (Ctrl-C stops it)");
            out.println("  API              " + base + "  (docs " + base + "/docs, status " + base + "/status)");
            out.println("  PostgreSQL       " + services.database().jdbcUrl() + (services.embeddedPostgres() ? " (embedded)" : ""));
            if (services.kafkaBootstrapServers() != null) {
                out.println("  Kafka            " + services.kafkaBootstrapServers()
                        + (services.embeddedKafka() ? " (embedded)" : "") + ", uploads topic " + config.kafka().uploadsTopic());
            }
            out.println("  index            " + config.faiss().indexType().configValue() + " at " + config.faiss().indexPath());
            stopped.await();
            return 0;
        } catch (Exception e) {
            LOG.error("The query server failed", e);
            System.err.println("imsrc serve: " + e.getMessage());
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs now
            }
            closeAll();
        }
    }

    /**
     * Ctrl-C: stops the server (it saves the index) and the services here, since the JVM may halt
     * before {@link #call} returns; then lets it return. Idempotent.
     */
    void stop() {
        closeAll();
        stopped.countDown();
    }

    private void closeAll() {
        QueryServer s = server;
        if (s != null) {
            try {
                s.close();
            } catch (Exception e) {
                LOG.warn("The query server did not stop cleanly: {}", e.toString());
            }
        }
        EmbeddedServices e = services;
        if (e != null) {
            e.close();
        }
    }

    QueryServer server() {
        return server;
    }

    private static QueryServerOptions.PostgresLogin login(DatabaseOptions database) {
        return new QueryServerOptions.PostgresLogin(database.jdbcUrl(), database.user(), database.password());
    }
}
