package io.imsrc.launcher;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.launcher.console.Console;
import io.imsrc.launcher.services.EmbeddedServices;
import io.imsrc.query.QueryServer;
import io.imsrc.query.QueryServerOptions;
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
public final class ServeCommand extends ImsrcCommand {

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--port", paramLabel = "PORT", description = "The API's port (default: API_PORT, else 8000; 0 = any free port).")
    private Integer port;

    @Option(names = "--no-uploads", description = "Run without Kafka: searches only, POST /upload answers 503.")
    private boolean noUploads;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile EmbeddedServices services;
    private volatile QueryServer server;

    @Override
    int run(CommandContext context) throws Exception {
        ImsrcConfig config = context.config();
        ConfiguredModel model = context.model(config);
        services = context.services(config, !noUploads);
        try (CommandContext.ShutdownHook hook = context.onShutdown(this::stop)) {
            QueryServerOptions options = QueryServerOptions.from(config, services.forQueryServer(model, null));
            try {
                server = QueryServer.start(port == null ? options : options.withPort(port));
            } catch (IllegalArgumentException e) {
                throw CommandContext.Failure.usage(e.getMessage());
            }
            report(context.console(), config, server);
            stopped.await();
            return 0;
        } finally {
            closeAll();
        }
    }

    private void report(Console console, ImsrcConfig config, QueryServer started) {
        String base = "http://localhost:" + started.port();
        console.say("query server running (Ctrl-C stops it)");
        console.detail("  API              " + base + "  (docs " + base + "/docs, status " + base + "/status)");
        console.services(services, config.kafka().uploadsTopic());
        console.detail("  index            " + config.faiss().indexType().configValue() + " at " + config.faiss().indexPath());
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
}
