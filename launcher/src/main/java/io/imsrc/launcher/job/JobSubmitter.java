package io.imsrc.launcher.job;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.IngestJob;
import io.imsrc.ingest.IngestJobOptions;
import io.imsrc.ingest.IngestTopology;
import io.imsrc.ingest.source.bulk.BulkPlanner;
import io.imsrc.ingest.source.bulk.BulkSourceResolver;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.bulk.ResolvedBulkSource;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Builds the ingest job as {@code flink run} would ({@link IngestJob#options}, {@link
 * IngestJob#attach}) and submits it: to a Flink of this process ({@link LocalFlink}, local mode), or
 * to the cluster FLINK_REST_URL names, shipping the job jar ({@link JobJar}).
 *
 * <p>Building and submitting are two steps ({@link #prepare}, {@link Prepared#submit}) so that a
 * source that cannot be read fails before anything runs and the caller may build again without it.
 *
 * @param database the PostgreSQL the job writes to
 * @param kafkaBootstrapServers the uploads' Kafka, {@code null} for a job without uploads
 * @param dashboardPort the local Flink's dashboard port (0: a free one); unused on a cluster
 */
public record JobSubmitter(ImsrcConfig config, DatabaseOptions database, String kafkaBootstrapServers,
        int dashboardPort) {

    /** Whether the job runs on a cluster this process does not own (FLINK_REST_URL). */
    public boolean cluster() {
        return config.flink().restUrl() != null;
    }

    /**
     * On a cluster, the job of the same name that is not over yet: followed rather than submitted
     * twice. Always empty in local mode.
     *
     * @throws IOException when the cluster cannot be asked
     */
    public Optional<SubmittedJob> alreadyRunning(List<BulkSourceSpec> sources) throws IOException {
        if (!cluster()) {
            return Optional.empty();
        }
        String jobName = IngestJob.options(config, database, kafkaBootstrapServers, sources).build().jobName();
        FlinkRest rest = new FlinkRest(config.flink().restUrl());
        return rest.activeJob(jobName).map(id -> new SubmittedJob(null, id, jobName, rest.baseUrl(), true, null, sources));
    }

    /**
     * Builds the job over {@code sources}, not yet running.
     *
     * @throws IOException or {@link IllegalArgumentException} when a source cannot be read or the
     *     model or job jar cannot be found
     */
    public Prepared prepare(List<BulkSourceSpec> sources) throws IOException {
        IngestJobOptions.Builder builder = IngestJob.options(config, database, kafkaBootstrapServers, sources);
        if (cluster()) {
            IngestJobOptions options = builder.build();
            StreamExecutionEnvironment env = remoteEnvironment(config.flink().restUrl(), JobJar.locate(config));
            return new Prepared(sources, options, env, IngestJob.attach(env, options), null,
                    new FlinkRest(config.flink().restUrl()).baseUrl());
        }
        IngestJobOptions options = builder
                .parallelism(config.flink().localParallelism(Runtime.getRuntime().availableProcessors()))
                .stateBackend(config.flink().localStateBackend())
                .checkpointDirectory(config.dataDir().resolve("checkpoints").toAbsolutePath().toUri().toString())
                .build();
        LocalFlink flink = LocalFlink.create(dashboardPort, options.parallelism());
        return new Prepared(sources, options, flink.env(), IngestJob.attach(flink.env(), options), flink, null);
    }

    /**
     * Builds the job over those of {@code sources} that can be read: a source that cannot (offline,
     * a wrong path) does not keep a system that serves down; it is left out, and the job runs for
     * uploads over what is stored, unless nothing is stored and nothing else can be read.
     *
     * @param stored the model's vectors stored already
     * @param leavingOut told of the sources left out, with why, and of {@code stored}
     * @throws IOException or {@link IllegalArgumentException} as {@link #prepare} does, when no
     *     source is to blame or nothing would be left to serve
     */
    public Prepared prepareReadable(List<BulkSourceSpec> sources, long stored,
            BiConsumer<Map<BulkSourceSpec, String>, Long> leavingOut) throws IOException {
        try {
            return prepare(sources);
        } catch (IOException | IllegalArgumentException e) {
            Map<BulkSourceSpec, String> unreadable = unreadable(sources);
            List<BulkSourceSpec> readable = sources.stream().filter(spec -> !unreadable.containsKey(spec)).toList();
            boolean nothingToServe = stored == 0 && readable.stream().allMatch(BulkSourceSpec::watch);
            if (unreadable.isEmpty() || nothingToServe) {
                throw e;
            }
            leavingOut.accept(unreadable, stored);
            return prepare(readable);
        }
    }

    /**
     * The job, built and attached to its environment but not yet running.
     *
     * @param sources the bulk sources it reads
     * @param local the local Flink it runs in, {@code null} on a cluster
     * @param clusterUrl the cluster's REST address, {@code null} in local mode
     */
    public record Prepared(List<BulkSourceSpec> sources, IngestJobOptions options, StreamExecutionEnvironment env,
            IngestTopology.Summary summary, LocalFlink local, String clusterUrl) {

        /** Submits the job; in local mode this starts the local Flink. */
        public SubmittedJob submit() throws Exception {
            JobClient client = env.executeAsync(options.jobName());
            try {
                String dashboard = local != null ? local.dashboardUrl() : clusterUrl;
                return new SubmittedJob(client, client.getJobID().toString(), options.jobName(), dashboard,
                        local == null, summary, sources);
            } catch (Exception e) {
                if (local != null) {
                    client.cancel();
                }
                throw e;
            }
        }
    }

    /** The sources of {@code sources} that cannot be resolved and planned, with the reason. */
    private Map<BulkSourceSpec, String> unreadable(List<BulkSourceSpec> sources) {
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
}
