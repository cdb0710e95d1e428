package io.imsrc.launcher;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.launcher.CommandContext.Failure;
import io.imsrc.launcher.console.IngestConsole;
import io.imsrc.launcher.console.IngestProgress;
import io.imsrc.launcher.job.FlinkRest;
import io.imsrc.launcher.job.JobSubmitter;
import io.imsrc.launcher.job.LocalFlink;
import io.imsrc.launcher.job.SourceCompletion;
import io.imsrc.launcher.job.SourceLedger;
import io.imsrc.launcher.job.SubmittedJob;
import io.imsrc.launcher.services.EmbeddedServices;
import io.imsrc.launcher.services.ServiceStartException;
import io.imsrc.query.QueryServer;
import io.imsrc.query.QueryServerOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code imsrc start} and {@code imsrc ingest} run, composed of its parts: the services
 * ({@link EmbeddedServices}), the ingest job ({@link JobSubmitter}: in a local Flink with its
 * dashboard, or on the cluster FLINK_REST_URL names), optionally the query server, the console
 * ({@link IngestConsole}, {@link IngestProgress}), the ledger of sources read to the end ({@link
 * SourceCompletion}), and a clean stop.
 *
 * <p>Local mode owns the job: Ctrl-C stops it with a savepoint, then the server and the services.
 * Cluster mode does not: a job of the same name already running there is followed rather than
 * submitted twice, and Ctrl-C leaves it running.
 *
 * <p>Just over 300 lines, kept in one piece on purpose: it orders the parts' lives (services, then
 * the job, then the server and the pollers, closed in reverse) and the stop that Ctrl-C runs on
 * another thread, whose flags and latches are read together here.
 */
final class IngestRun {

    private static final Logger LOG = LoggerFactory.getLogger(IngestRun.class);

    /**
     * What to run.
     *
     * @param sources the bulk sources (and watched folders)
     * @param uploads whether the job reads uploads from Kafka
     * @param serve whether the query server runs too
     * @param dashboardPort the local Flink's dashboard port, or {@code null} for FLINK_WEB_PORT
     * @param apiPort the API's port, or {@code null} for API_PORT
     * @param skipIngested whether a source the ledger says was read to the end is left out
     */
    record Plan(List<BulkSourceSpec> sources, boolean uploads, boolean serve, Integer dashboardPort, Integer apiPort,
            boolean skipIngested) {}

    /**
     * A started run, for tests and the shutdown hook.
     *
     * @param server the query server, {@code null} without one
     */
    record Running(EmbeddedServices services, SubmittedJob job, QueryServer server) {

        String dashboardUrl() {
            return job.dashboardUrl();
        }

        String jobId() {
            return job.jobId();
        }
    }

    private final CountDownLatch released = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean entered;
    private volatile Running running;
    private volatile EmbeddedServices services;
    private volatile boolean stopping;
    private String savepointDirectory;

    /**
     * Runs {@code plan} until the job ends or {@link #stop} is called.
     *
     * @return the exit code: 0 done or stopped, 1 the job failed
     * @throws Failure when an input cannot be had (exit code 2) or a service cannot be started (1)
     */
    int run(CommandContext context, ImsrcConfig config, Plan plan) throws Exception {
        entered = true;
        try {
            return runServices(context, config, plan);
        } finally {
            finished.countDown();
        }
    }

    private int runServices(CommandContext context, ImsrcConfig config, Plan plan) throws Exception {
        savepointDirectory = config.dataDir().resolve("savepoints").toAbsolutePath().toUri().toString();
        // The local job decodes in this process, beside the server: one budget for both.
        DecodeBudget.shared().setCapacity(config.model().decodeBudgetPixels());
        ConfiguredModel model = context.model(config);
        int dashboardPort = plan.dashboardPort() != null ? plan.dashboardPort() : config.flink().webPort();
        try {
            // Taken ports fail here, before anything starts, rather than half way with a stack trace.
            if (plan.serve()) {
                LocalFlink.requireFree(plan.apiPort() != null ? plan.apiPort() : config.api().port(),
                        "the API", "API_PORT (or --port)");
            }
            if (config.flink().restUrl() == null) {
                LocalFlink.requireFree(dashboardPort, "the Flink dashboard", "FLINK_WEB_PORT (or --dashboard-port)");
            }
        } catch (IOException e) {
            throw Failure.usage(e.getMessage());
        }
        EmbeddedServices started = context.services(config, plan.uploads() || plan.serve());
        services = started;
        try (CommandContext.ShutdownHook hook = context.onShutdown(this::stop)) {
            JobSubmitter submitter = new JobSubmitter(config, started.database(),
                    plan.uploads() ? started.kafkaBootstrapServers() : null, dashboardPort);
            return runOn(new IngestConsole(context.console()), config, plan, model, started, submitter);
        } finally {
            Running r = running;
            if (r != null) {
                closeServer(r);
            }
            started.close();
        }
    }

    private int runOn(IngestConsole console, ImsrcConfig config, Plan plan, ConfiguredModel model,
            EmbeddedServices started, JobSubmitter submitter) throws Exception {
        SourceLedger ledger = new SourceLedger(started.database(), model.modelId().value());
        List<BulkSourceSpec> sources = new ArrayList<>();
        for (BulkSourceSpec spec : plan.sources()) {
            Optional<SourceLedger.Entry> done = plan.skipIngested() && !spec.watch() ? ledger.find(spec) : Optional.empty();
            if (done.isPresent()) {
                console.alreadyIngested(spec, done.get());
            } else {
                sources.add(spec);
            }
        }
        if (sources.isEmpty() && !plan.uploads()) {
            console.nothingToIngest();
            return 0;
        }
        Optional<SubmittedJob> followed;
        try {
            followed = submitter.alreadyRunning(sources);
        } catch (IOException | IllegalArgumentException e) {
            throw Failure.usage(e.getMessage() + " (FLINK_REST_URL)");
        }
        IngestProgress progress = new IngestProgress(started.database(), model.modelId().value(),
                console.console().out()).baseline();
        SubmittedJob job;
        if (followed.isPresent()) {
            job = followed.get();
            console.following(job);
        } else {
            job = prepare(console, plan, submitter, sources, progress.storedBefore()).submit();
        }

        QueryServer server = null;
        if (plan.serve()) {
            try {
                QueryServerOptions options = QueryServerOptions.from(config,
                        started.forQueryServer(model, job.dashboardUrl()));
                server = QueryServer.start(plan.apiPort() == null ? options : options.withPort(plan.apiPort()));
            } catch (Exception e) {
                if (job.client() != null && !job.cluster()) {
                    job.client().cancel();
                }
                throw e;
            }
        }
        running = new Running(started, job, server);
        console.running(config, job, server, started);

        FlinkRest rest = job.rest();
        try (SourceCompletion completion = new SourceCompletion(rest, job.jobId(), job.bulkSources(), ledger,
                        console::recorded).start();
                IngestProgress reporting = progress.follow(rest, job.jobId(), completion::recorded)
                        .start(job.plannedImages(), 5)) {
            if (job.cluster()) {
                return followClusterJob(console, plan, job, completion, reporting);
            }
            try {
                job.client().getJobExecutionResult().get();
                if (!stopping) {
                    completion.completeAll();
                }
                console.ended(stopping, reporting.stored());
                return 0;
            } catch (ExecutionException e) {
                if (stopping) {
                    console.ended(true, reporting.stored());
                    return 0;
                }
                LOG.error("The ingest job failed", e.getCause());
                console.jobFailed(ServiceStartException.rootMessage(e));
                return CommandContext.EXIT_FAILED;
            }
        }
    }

    /**
     * A job on a cluster outlives this process: with the server, serve until Ctrl-C; without, follow
     * the bulk sources until they are stored (or the job ends) and leave the job running.
     */
    private int followClusterJob(IngestConsole console, Plan plan, SubmittedJob job, SourceCompletion completion,
            IngestProgress progress) throws Exception {
        if (plan.serve()) {
            released.await();
            console.leftRunningOnCluster();
            return 0;
        }
        if (!completion.hasSources()) {
            console.noBulkSourceToFollow();
            return 0;
        }
        while (!stopping && !completion.recorded()) {
            if (job.client() != null && job.client().getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                try {
                    job.client().getJobExecutionResult().get();
                    completion.completeAll();
                } catch (ExecutionException e) {
                    console.jobFailed(ServiceStartException.rootMessage(e));
                    return CommandContext.EXIT_FAILED;
                }
                break;
            }
            if (released.await(1, TimeUnit.SECONDS)) {
                break;
            }
        }
        console.followed(progress.stored(), stopping);
        return 0;
    }

    /**
     * Builds the job over {@code sources}. A run that serves and ingests uploads ({@code start})
     * leaves out a source that cannot be read rather than stay down ({@link
     * JobSubmitter#prepareReadable}).
     *
     * @param stored the model's vectors stored before this run
     * @throws Failure when the job cannot run (exit code 2)
     */
    private static JobSubmitter.Prepared prepare(IngestConsole console, Plan plan, JobSubmitter submitter,
            List<BulkSourceSpec> sources, long stored) throws Failure {
        try {
            return plan.serve() && plan.uploads() ? submitter.prepareReadable(sources, stored, console::startingWithout)
                    : submitter.prepare(sources);
        } catch (IOException | IllegalArgumentException e) {
            throw Failure.usage(e.getMessage());
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
     * Stops what this process owns, for Ctrl-C and tests: the server (it saves the index), a local
     * job with a savepoint (so every operator flushes: the last micro-batch, the prototypes, the
     * sinks), falling back to a cancel, then the services. A job on a cluster keeps running. Nothing
     * is lost either way: the next start does not restore the savepoint but rebuilds the job's state
     * from PostgreSQL (docs/design.md), so the savepoint only makes the stop a flush. Idempotent.
     */
    void stop() {
        stopOwned();
        if (entered) {
            try {
                // Ctrl-C: the JVM halts once this hook returns, so let the run say how it ended
                // first; it still counts its images in PostgreSQL, and then closes the services.
                finished.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        EmbeddedServices s = services;
        if (s != null) {
            s.close(); // idempotent: for a run that did not end in time
        }
    }

    private void stopOwned() {
        Running r;
        synchronized (this) {
            r = stopping ? null : running;
            stopping = true;
        }
        released.countDown();
        if (r == null) {
            EmbeddedServices s = services;
            if (s != null) {
                s.close();
            }
            return;
        }
        closeServer(r);
        r.job().stopOwned(savepointDirectory);
    }

    Running running() {
        return running;
    }

}
