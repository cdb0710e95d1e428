package io.imsrc.launcher;

import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.common.embed.ConfiguredModel;
import io.imsrc.ingest.IngestCommandOptions;
import io.imsrc.ingest.IngestJob;
import io.imsrc.ingest.IngestJobOptions;
import io.imsrc.ingest.IngestTopology;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.query.QueryServer;
import io.imsrc.query.QueryServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code imsrc ingest}: runs the ingest job in a local Flink with its dashboard, against the
 * embedded PostgreSQL and Kafka broker (or the ones the configuration names), and reports its
 * progress. A job with only bounded sources ends when they are read; with uploads or a watched
 * folder it runs until stopped (Ctrl-C), and stopping cancels it cleanly: every write is idempotent
 * and a fresh start rebuilds its state from PostgreSQL, so nothing is lost or counted twice.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Ingests images with the Flink job in a local Flink (dashboard on FLINK_WEB_PORT, default 8081).",
            "Without --source it ingests CIFAR10_SOURCE. PostgreSQL and Kafka are embedded unless DB_HOST and "
                    + "KAFKA_BOOTSTRAP_SERVERS name others."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the ingest ended (or was stopped)", "1:the job failed", "2:bad arguments or settings"})
public final class IngestCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(IngestCommand.class);

    @Mixin
    private IngestCommandOptions ingest = new IngestCommandOptions();

    @Option(names = "--dashboard-port", paramLabel = "PORT",
            description = "The Flink dashboard's port (default: FLINK_WEB_PORT, else 8081; 0 = any free port).")
    private Integer dashboardPort;

    @Option(names = "--serve",
            description = "Also run the query server (API_PORT, default 8000) on the same services: search what is "
                    + "ingested, upload over HTTP. It stops with the job (with uploads on, at Ctrl-C).")
    private boolean serve;

    private final Settings settings;
    private final PrintStream out;
    private volatile Running running;
    private volatile boolean stopping;
    private String savepointDirectory;

    /** What a started ingest holds, for tests and the shutdown hook; {@code server} without --serve is null. */
    record Running(EmbeddedServices services, JobClient job, String dashboardUrl, QueryServer server) {}

    public IngestCommand() {
        this(Settings.fromEnvironment(), System.out);
    }

    IngestCommand(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    @Override
    public Integer call() throws Exception {
        ImsrcConfig config;
        List<BulkSourceSpec> sources;
        try {
            config = ImsrcConfig.from(settings);
            sources = ingest.bulkSources(config);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("imsrc ingest: " + e.getMessage());
            return 2;
        }
        int port = dashboardPort != null ? dashboardPort : config.flink().webPort();
        savepointDirectory = config.dataDir().resolve("savepoints").toAbsolutePath().toUri().toString();
        EmbeddedServices services = EmbeddedServices.start(config, ingest.uploads());
        Thread hook = new Thread(this::stop, "imsrc-ingest-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            IngestJobOptions options;
            LocalFlink.Environment flink;
            IngestTopology.Summary summary;
            try {
                options = IngestJob.options(config, services.database(), services.kafkaBootstrapServers(), sources)
                        .parallelism(config.flink().localParallelism(Runtime.getRuntime().availableProcessors()))
                        .checkpointDirectory(config.dataDir().resolve("checkpoints").toAbsolutePath().toUri().toString())
                        .build();
                flink = LocalFlink.start(port, options.parallelism());
                IngestJob.configure(flink.env(), options);
                summary = IngestTopology.attach(flink.env(), options);
            } catch (IOException | IllegalArgumentException e) {
                // A source or model that cannot be had: the message names it and what to do instead.
                System.err.println("imsrc ingest: " + e.getMessage());
                return 2;
            }
            IngestProgress progress = new IngestProgress(services.database(), options.embedding().modelId(), out)
                    .baseline();
            JobClient job = flink.env().executeAsync(options.jobName());
            QueryServer server = null;
            if (serve) {
                try {
                    server = QueryServer.start(QueryServerOptions.from(config, ConfiguredModel.resolve(config))
                            .database(services.database().jdbcUrl(), services.database().user(),
                                    services.database().password())
                            .kafkaBootstrapServers(services.kafkaBootstrapServers())
                            .build());
                } catch (Exception e) {
                    job.cancel();
                    throw e;
                }
            }
            running = new Running(services, job, flink.dashboardUrl(), server);
            out.println("imsrc ingest: job " + job.getJobID() + " running");
            out.println("  Flink dashboard  " + flink.dashboardUrl());
            if (server != null) {
                String api = "http://localhost:" + server.port();
                out.println("  API              " + api + "  (docs " + api + "/docs, status " + api + "/status)");
            }
            out.println("  PostgreSQL       " + services.database().jdbcUrl() + (services.embeddedPostgres() ? " (embedded)" : ""));
            if (services.kafkaBootstrapServers() != null) {
                out.println("  Kafka            " + services.kafkaBootstrapServers() + (services.embeddedKafka() ? " (embedded)" : "")
                        + ", uploads topic " + config.kafka().uploadsTopic());
            }
            out.println(summary.unbounded() ? "  runs until stopped (Ctrl-C)" : "  ends when " + summary.plannedImages()
                    + " images are read");
            try (IngestProgress started = progress.start(summary.plannedImages(), 5)) {
                job.getJobExecutionResult().get();
                out.printf("imsrc ingest: %s, %,d new images stored%n", stopping ? "stopped" : "done", started.stored());
                return 0;
            } catch (ExecutionException e) {
                if (stopping) {
                    out.println("imsrc ingest: stopped");
                    return 0;
                }
                LOG.error("The ingest job failed", e.getCause());
                System.err.println("imsrc ingest: the job failed: " + rootMessage(e));
                return 1;
            }
        } finally {
            if (!stopping) {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            Running r = running;
            if (r != null) {
                closeServer(r);
            }
            services.close();
        }
    }

    private static void closeServer(Running r) {
        if (r.server() != null) {
            try {
                r.server().close(); // saves the index; idempotent
            } catch (Exception e) {
                LOG.warn("The query server did not stop cleanly: {}", e.toString());
            }
        }
    }

    /**
     * Stops the job with a savepoint (so every operator flushes: the last micro-batch, the
     * prototypes, the sinks), falling back to a cancel, then stops the services: for Ctrl-C and
     * for tests. Nothing is lost either way; the savepoint only spares the next start some replay.
     */
    void stop() {
        Running r;
        synchronized (this) {
            r = stopping ? null : running;
            stopping = true;
        }
        if (r == null) {
            return;
        }
        closeServer(r);
        try {
            String savepoint;
            try {
                savepoint = stopWithSavepoint(r.job());
            } catch (ExecutionException e) {
                // A savepoint fails when it meets a task that is finishing (a bulk source at its end): once more.
                LOG.info("The savepoint failed ({}); trying once more", e.getCause() == null ? e : e.getCause());
                savepoint = stopWithSavepoint(r.job());
            }
            LOG.info("Stopped the ingest job with a savepoint at {}", savepoint);
        } catch (Exception e) {
            LOG.warn("Could not stop the job with a savepoint ({}); cancelling it", e.toString());
            try {
                r.job().cancel().get(60, TimeUnit.SECONDS);
            } catch (Exception again) {
                LOG.warn("The job did not stop cleanly: {}", again.toString());
            }
        } finally {
            try {
                r.job().getJobExecutionResult().handle((result, failure) -> null).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("The job did not end within a minute: {}", e.toString());
            }
            r.services().close();
        }
    }

    private String stopWithSavepoint(JobClient job) throws Exception {
        return job.stopWithSavepoint(false, savepointDirectory, SavepointFormatType.CANONICAL).get(60, TimeUnit.SECONDS);
    }

    Running running() {
        return running;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
