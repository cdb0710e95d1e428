package io.imsrc.launcher;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.image.DecodeBudget;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.IngestJob;
import io.imsrc.ingest.IngestJobOptions;
import io.imsrc.ingest.IngestTopology;
import io.imsrc.ingest.source.bulk.BulkPlanner;
import io.imsrc.ingest.source.bulk.BulkSourceResolver;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.bulk.ResolvedBulkSource;
import io.imsrc.query.QueryServer;
import io.imsrc.query.QueryServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code imsrc start} and {@code imsrc ingest} run: the services (embedded unless configured),
 * the ingest job (in a local Flink with its dashboard, or submitted to the cluster FLINK_REST_URL
 * names), optionally the query server, the console's progress, and a clean stop.
 *
 * <p>Local mode owns the job: Ctrl-C stops it with a savepoint, then the server and the services.
 * Cluster mode does not: a job of the same name already running there is followed rather than
 * submitted twice, and Ctrl-C leaves it running.
 */
final class IngestRun {

    private static final Logger LOG = LoggerFactory.getLogger(IngestRun.class);

    /**
     * What to run.
     *
     * @param command the subcommand, for messages
     * @param sources the bulk sources (and watched folders)
     * @param uploads whether the job reads uploads from Kafka
     * @param serve whether the query server runs too
     * @param dashboardPort the local Flink's dashboard port, or {@code null} for FLINK_WEB_PORT
     * @param apiPort the API's port, or {@code null} for API_PORT
     * @param skipIngested whether a source the ledger says was read to the end is left out
     */
    record Plan(String command, List<BulkSourceSpec> sources, boolean uploads, boolean serve, Integer dashboardPort,
            Integer apiPort, boolean skipIngested) {}

    /**
     * A started run, for tests and the shutdown hook.
     *
     * @param job the job this process submitted, {@code null} when it follows one already on the cluster
     * @param jobId the job's id
     * @param dashboardUrl Flink's dashboard and REST API
     * @param server the query server, {@code null} without one
     * @param cluster whether the job runs on a cluster this process does not own
     */
    record Running(EmbeddedServices services, JobClient job, String jobId, String dashboardUrl, QueryServer server,
            boolean cluster) {}

    private final PrintStream out;
    private final CountDownLatch released = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean entered;
    private volatile Running running;
    private volatile EmbeddedServices services;
    private volatile boolean stopping;
    private String savepointDirectory;

    IngestRun(PrintStream out) {
        this.out = out;
    }

    /**
     * Runs {@code plan} until the job ends or {@link #stop} is called.
     *
     * @return the exit code: 0 done or stopped, 1 the job failed, 2 an input cannot be had
     */
    int run(ImsrcConfig config, Plan plan) throws Exception {
        entered = true;
        try {
            return runServices(config, plan);
        } finally {
            finished.countDown();
        }
    }

    private int runServices(ImsrcConfig config, Plan plan) throws Exception {
        String name = "imsrc " + plan.command();
        boolean cluster = config.flink().restUrl() != null;
        savepointDirectory = config.dataDir().resolve("savepoints").toAbsolutePath().toUri().toString();
        // The local job decodes in this process, beside the server: one budget for both.
        DecodeBudget.shared().setCapacity(config.model().decodeBudgetPixels());
        ConfiguredModel model;
        try {
            model = ConfiguredModel.resolve(config);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            return 2;
        }
        try {
            // Taken ports fail here, before anything starts, rather than half way with a stack trace.
            if (plan.serve()) {
                LocalFlink.requireFree(plan.apiPort() != null ? plan.apiPort() : config.api().port(),
                        "the API", "API_PORT (or --port)");
            }
            if (!cluster) {
                LocalFlink.requireFree(plan.dashboardPort() != null ? plan.dashboardPort() : config.flink().webPort(),
                        "the Flink dashboard", "FLINK_WEB_PORT (or --dashboard-port)");
            }
        } catch (IOException e) {
            System.err.println(name + ": " + e.getMessage());
            return 2;
        }
        EmbeddedServices started;
        try {
            started = EmbeddedServices.start(config, plan.uploads() || plan.serve());
        } catch (ServiceStartException e) {
            System.err.println(name + ": " + e.getMessage());
            return 1;
        }
        services = started;
        Thread hook = new Thread(this::stop, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return runOn(config, plan, name, cluster, model, started);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs now
            }
            Running r = running;
            if (r != null) {
                closeServer(r);
            }
            started.close();
        }
    }

    private int runOn(ImsrcConfig config, Plan plan, String name, boolean cluster, ConfiguredModel model,
            EmbeddedServices started) throws Exception {
        SourceLedger ledger = new SourceLedger(started.database(), model.modelId().value());
        List<BulkSourceSpec> sources = new ArrayList<>();
        for (BulkSourceSpec spec : plan.sources()) {
            Optional<SourceLedger.Entry> done = plan.skipIngested() && !spec.watch() ? ledger.find(spec) : Optional.empty();
            if (done.isPresent()) {
                out.printf(Locale.ROOT, "%s: %s was ingested on %s (%,d images); not reading it again "
                        + "(imsrc ingest --source reads a source again, storing only what is new)%n",
                        name, spec, done.get().completedAt().toLocalDate(), done.get().imagesRead());
            } else {
                sources.add(spec);
            }
        }
        if (sources.isEmpty() && !plan.uploads()) {
            out.println(name + ": nothing to ingest");
            return 0;
        }
        FlinkRest rest;
        JobClient job = null;
        String jobId;
        String dashboardUrl;
        IngestTopology.Summary summary = null;
        IngestProgress progress;
        if (cluster) {
            rest = new FlinkRest(config.flink().restUrl());
            dashboardUrl = rest.baseUrl();
            Optional<String> active;
            String jobName;
            try {
                jobName = IngestJob.options(config, started.database(),
                        plan.uploads() ? started.kafkaBootstrapServers() : null, sources).build().jobName();
                active = rest.activeJob(jobName);
            } catch (IOException | IllegalArgumentException e) {
                System.err.println(name + ": " + e.getMessage() + " (FLINK_REST_URL)");
                return 2;
            }
            progress = new IngestProgress(started.database(), model.modelId().value(), out).baseline();
            if (active.isPresent()) {
                jobId = active.get();
                out.println(name + ": the job '" + jobName + "' already runs on " + dashboardUrl
                        + " (" + jobId + "); following it instead of submitting another");
            } else {
                Built built = buildOrSkipUnreadable(config, plan, name, started, model, sources, cluster);
                if (built == null) {
                    return 2;
                }
                sources = built.sources();
                summary = built.summary();
                job = built.env().executeAsync(built.options().jobName());
                jobId = job.getJobID().toString();
            }
        } else {
            Built built = buildOrSkipUnreadable(config, plan, name, started, model, sources, cluster);
            if (built == null) {
                return 2;
            }
            sources = built.sources();
            summary = built.summary();
            progress = new IngestProgress(started.database(), model.modelId().value(), out).baseline();
            job = built.env().executeAsync(built.options().jobName());
            jobId = job.getJobID().toString();
            dashboardUrl = built.dashboardUrl();
            rest = new FlinkRest(dashboardUrl);
        }

        QueryServer server = null;
        if (plan.serve()) {
            try {
                QueryServerOptions options = QueryServerOptions.from(config, new QueryServerOptions.Services(
                        login(started.database()), started.kafkaBootstrapServers(), model, dashboardUrl));
                server = QueryServer.start(plan.apiPort() == null ? options : options.withPort(plan.apiPort()));
            } catch (Exception e) {
                if (job != null && !cluster) {
                    job.cancel();
                }
                throw e;
            }
        }
        running = new Running(started, job, jobId, dashboardUrl, server, cluster);
        printAddresses(config, name, jobId, dashboardUrl, server, started, cluster);

        List<SourceCompletion.Source> bulk = new ArrayList<>();
        for (int i = 0; summary != null && i < sources.size(); i++) {
            if (!sources.get(i).watch()) {
                bulk.add(new SourceCompletion.Source(sources.get(i), summary.plannedPerSource().get(i)));
            }
        }
        long planned = summary == null ? 0 : summary.plannedImages();
        if (summary != null) {
            out.println(summary.unbounded() ? "  runs until stopped (Ctrl-C)"
                    : "  ends when " + String.format(Locale.ROOT, "%,d", planned) + " images are read");
        }
        try (SourceCompletion completion = new SourceCompletion(rest, jobId, bulk, ledger, out, name).start();
                IngestProgress reporting = progress.follow(rest, jobId, completion::recorded).start(planned, 5)) {
            if (cluster) {
                return followClusterJob(name, plan, job, completion, reporting);
            }
            try {
                job.getJobExecutionResult().get();
                if (!stopping) {
                    completion.completeAll();
                }
                out.printf(Locale.ROOT, "%s: %s, %,d new images stored%n", name, stopping ? "stopped" : "done",
                        reporting.stored());
                return 0;
            } catch (ExecutionException e) {
                if (stopping) {
                    out.printf(Locale.ROOT, "%s: stopped, %,d new images stored%n", name, reporting.stored());
                    return 0;
                }
                LOG.error("The ingest job failed", e.getCause());
                System.err.println(name + ": the job failed: " + rootMessage(e));
                return 1;
            }
        }
    }

    /**
     * A job on a cluster outlives this process: with the server, serve until Ctrl-C; without, follow
     * the bulk sources until they are stored (or the job ends) and leave the job running.
     */
    private int followClusterJob(String name, Plan plan, JobClient job, SourceCompletion completion,
            IngestProgress progress) throws Exception {
        if (plan.serve()) {
            released.await();
            out.println(name + ": stopped; the job keeps running on the cluster");
            return 0;
        }
        if (!completion.hasSources()) {
            out.println(name + ": no bulk source to follow; the job keeps running on the cluster");
            return 0;
        }
        while (!stopping && !completion.recorded()) {
            if (job != null && job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                try {
                    job.getJobExecutionResult().get();
                    completion.completeAll();
                } catch (ExecutionException e) {
                    System.err.println(name + ": the job failed: " + rootMessage(e));
                    return 1;
                }
                break;
            }
            if (released.await(1, TimeUnit.SECONDS)) {
                break;
            }
        }
        out.printf(Locale.ROOT, "%s: %,d new images stored%s%n", name, progress.stored(),
                stopping ? "" : "; the job keeps running on the cluster for uploads");
        return 0;
    }

    /**
     * The job, built and attached to its environment but not yet running.
     *
     * @param sources the bulk sources it reads (those that could be read)
     * @param dashboardUrl the local Flink's dashboard, {@code null} on a cluster
     */
    private record Built(List<BulkSourceSpec> sources, IngestJobOptions options, StreamExecutionEnvironment env,
            IngestTopology.Summary summary, String dashboardUrl) {}

    /**
     * Builds the job over {@code sources}. For {@code start}, a source that cannot be read (offline,
     * a wrong path) does not keep the system down: it is reported and left out, and the job runs
     * for uploads over what is stored, unless nothing is stored and nothing else can be read.
     *
     * @return the job, or {@code null} after printing why it cannot run (exit code 2)
     */
    private Built buildOrSkipUnreadable(ImsrcConfig config, Plan plan, String name, EmbeddedServices started,
            ConfiguredModel model, List<BulkSourceSpec> sources, boolean cluster) throws Exception {
        try {
            return build(config, plan, started, sources, cluster);
        } catch (IOException | IllegalArgumentException e) {
            if (!plan.serve() || !plan.uploads()) {
                System.err.println(name + ": " + e.getMessage());
                return null;
            }
            Map<BulkSourceSpec, String> unreadable = unreadable(config, sources);
            long stored = new IngestProgress(started.database(), model.modelId().value(), out).baseline().storedBefore();
            List<BulkSourceSpec> readable = sources.stream().filter(spec -> !unreadable.containsKey(spec)).toList();
            boolean nothingToServe = stored == 0 && readable.stream().allMatch(BulkSourceSpec::watch);
            if (unreadable.isEmpty() || nothingToServe) {
                System.err.println(name + ": " + e.getMessage());
                return null;
            }
            unreadable.forEach((spec, why) -> System.err.println(name + ": WARNING: cannot read the source " + spec
                    + ": " + why));
            System.err.printf(Locale.ROOT, "%s: WARNING: starting without %s: searches answer from the %,d images "
                    + "stored, uploads are ingested; once the source can be read, start again (or give --source)%n",
                    name, unreadable.size() == 1 ? "it" : "them", stored);
            try {
                return build(config, plan, started, readable, cluster);
            } catch (IOException | IllegalArgumentException again) {
                System.err.println(name + ": " + again.getMessage());
                return null;
            }
        }
    }

    private Built build(ImsrcConfig config, Plan plan, EmbeddedServices started, List<BulkSourceSpec> sources,
            boolean cluster) throws IOException {
        IngestJobOptions.Builder builder = IngestJob.options(config, started.database(),
                plan.uploads() ? started.kafkaBootstrapServers() : null, sources);
        if (cluster) {
            IngestJobOptions options = builder.build();
            StreamExecutionEnvironment env = remoteEnvironment(config.flink().restUrl(), JobJar.locate(config));
            IngestJob.configure(env, options);
            return new Built(sources, options, env, IngestTopology.attach(env, options), null);
        }
        IngestJobOptions options = builder
                .parallelism(config.flink().localParallelism(Runtime.getRuntime().availableProcessors()))
                .checkpointDirectory(config.dataDir().resolve("checkpoints").toAbsolutePath().toUri().toString())
                .build();
        int port = plan.dashboardPort() != null ? plan.dashboardPort() : config.flink().webPort();
        LocalFlink.Environment flink = LocalFlink.start(port, options.parallelism());
        IngestJob.configure(flink.env(), options);
        return new Built(sources, options, flink.env(), IngestTopology.attach(flink.env(), options), flink.dashboardUrl());
    }

    /** The sources of {@code sources} that cannot be resolved and planned, with the reason. */
    private static Map<BulkSourceSpec, String> unreadable(ImsrcConfig config, List<BulkSourceSpec> sources) {
        Map<BulkSourceSpec, String> unreadable = new LinkedHashMap<>();
        for (BulkSourceSpec spec : sources) {
            try {
                ResolvedBulkSource resolved = BulkSourceResolver.resolve(spec,
                        config.dataDir().resolve("cache").toAbsolutePath(), config.search().maxUploadSize());
                if (!resolved.watch()) {
                    BulkPlanner.plan(resolved);
                }
            } catch (IOException | RuntimeException e) {
                unreadable.put(spec, e.getMessage() == null ? e.toString() : e.getMessage());
            }
        }
        return unreadable;
    }

    private void printAddresses(ImsrcConfig config, String name, String jobId, String dashboardUrl, QueryServer server,
            EmbeddedServices started, boolean cluster) {
        out.println(name + ": job " + jobId + " running" + (cluster ? " on the cluster" : ""));
        if (server != null) {
            String api = "http://localhost:" + server.port();
            out.println("  Web page         " + api + "/app/");
            out.println("  API docs         " + api + "/docs  (status " + api + "/status)");
        }
        out.println("  Flink dashboard  " + dashboardUrl);
        out.println("  PostgreSQL       " + started.database().jdbcUrl() + (started.embeddedPostgres() ? " (embedded)" : ""));
        if (started.kafkaBootstrapServers() != null) {
            out.println("  Kafka            " + started.kafkaBootstrapServers() + (started.embeddedKafka() ? " (embedded)" : "")
                    + ", uploads topic " + config.kafka().uploadsTopic());
        }
        out.println("  data             " + config.dataDir().toAbsolutePath().normalize());
    }

    /** The environment that submits to the cluster at {@code restUrl}, shipping the job jar. */
    private static StreamExecutionEnvironment remoteEnvironment(String restUrl, Path jobJar) {
        URI uri = URI.create(restUrl);
        int port = uri.getPort() > 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
        Configuration conf = new Configuration();
        if (uri.getScheme().equals("https")) {
            conf.setString("security.ssl.rest.enabled", "true");
        }
        return StreamExecutionEnvironment.createRemoteEnvironment(uri.getHost(), port, conf, jobJar.toString());
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
        if (r.cluster() || r.job() == null) {
            return;
        }
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
        }
    }

    private String stopWithSavepoint(JobClient job) throws Exception {
        return job.stopWithSavepoint(false, savepointDirectory, SavepointFormatType.CANONICAL).get(60, TimeUnit.SECONDS);
    }

    Running running() {
        return running;
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }

    private static QueryServerOptions.PostgresLogin login(DatabaseOptions database) {
        return new QueryServerOptions.PostgresLogin(database.jdbcUrl(), database.user(), database.password());
    }
}
