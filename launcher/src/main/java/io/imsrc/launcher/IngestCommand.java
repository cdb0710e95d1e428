package io.imsrc.launcher;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.ingest.IngestCommandOptions;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code imsrc ingest} (also {@code populate}): runs the ingest job over the sources it is given,
 * in a local Flink with its dashboard (or on the cluster FLINK_REST_URL names), against the
 * embedded PostgreSQL and Kafka broker (or the ones the configuration names), and reports its
 * progress. Unlike {@code start} it reads a source again even when it was read before: every write
 * is idempotent and the job skips the images it has, so nothing is stored or counted twice.
 */
@Command(name = "ingest", aliases = "populate", mixinStandardHelpOptions = true,
        description = {"Ingests images with the Flink job: in a local Flink (dashboard on FLINK_WEB_PORT, default 8081), "
                + "or submitted to the cluster FLINK_REST_URL names.",
            "Without --source it ingests CIFAR10_SOURCE. PostgreSQL and Kafka are embedded unless DB_HOST and "
                    + "KAFKA_BOOTSTRAP_SERVERS name others. Images already stored are skipped, never stored twice.",
            "Locally, a job with only bulk sources (--no-uploads) ends when they are read; with uploads or --watch it "
                    + "runs until Ctrl-C, which stops it with a savepoint. On a cluster the job keeps running: this "
                    + "command follows the bulk sources until they are stored and then returns."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the ingest ended (or was stopped)", "1:the job failed, or PostgreSQL or Kafka cannot be "
                + "started or reached", "2:bad arguments or settings, "
                + "or an input that cannot be had"})
public final class IngestCommand extends ImsrcCommand {

    @Mixin
    private IngestCommandOptions ingest = new IngestCommandOptions();

    @Option(names = "--dashboard-port", paramLabel = "PORT",
            description = "The local Flink dashboard's port (default: FLINK_WEB_PORT, else 8081; 0 = any free port).")
    private Integer dashboardPort;

    @Option(names = "--serve",
            description = "Also run the query server (API_PORT, default 8000) on the same services: search what is "
                    + "ingested, upload over HTTP. It stops with the job (with uploads on, at Ctrl-C).")
    private boolean serve;

    @Option(names = "--skip-ingested",
            description = "Leave out a source that was read to the end before, as `start` does (for a job submitter "
                    + "that may run more than once).")
    private boolean skipIngested;

    private final IngestRun run = new IngestRun();

    @Override
    int run(CommandContext context) throws Exception {
        ImsrcConfig config = context.config();
        List<BulkSourceSpec> sources = CommandContext.arguments(() -> ingest.bulkSources(config));
        return run.run(context, config, new IngestRun.Plan(sources, ingest.uploads(), serve, dashboardPort, null,
                skipIngested));
    }

    /** Stops the run as Ctrl-C does; idempotent. */
    void stop() {
        run.stop();
    }

    IngestRun.Running running() {
        return run.running();
    }
}
