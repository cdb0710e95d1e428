package io.imsrc.launcher;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.ingest.IngestCommandOptions;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code imsrc start}, what {@code imsrc} alone runs: the whole system on one machine. PostgreSQL and
 * Kafka (embedded, data in DATA_DIR, unless configured), the ingest job in a local Flink with its
 * dashboard (or on the cluster FLINK_REST_URL names), reading uploads and, on first start, CIFAR-10;
 * and the query server. A source read to the end before is not read again.
 */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = {"Starts everything: PostgreSQL and Kafka (embedded unless DB_HOST and KAFKA_BOOTSTRAP_SERVERS "
                + "name others), the ingest job in a local Flink (dashboard on FLINK_WEB_PORT, default 8081; or on the "
                + "cluster FLINK_REST_URL names) and the query server (API_PORT, default 8000).",
            "On first start it ingests CIFAR10_SOURCE (the official CIFAR-10 archive unless set; or --source); once "
                    + "a source is stored, later starts do not read it again. Uploads are ingested as they come.",
            "Ctrl-C stops everything cleanly (the local job with a savepoint); nothing is lost."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped", "1:the job failed, or PostgreSQL or Kafka cannot be started or reached",
            "2:bad arguments or settings, or an input that cannot be had"})
public final class StartCommand extends ImsrcCommand {

    @Option(names = "--source", paramLabel = "LOCATION[#ROOT]",
            description = {"What to ingest instead of CIFAR10_SOURCE: the CIFAR-10 binary archive (path or URL; ROOT "
                    + "train or test) or a labelled image folder, .tar, .tar.gz or .zip (ROOT a folder inside it). "
                    + "Repeatable."})
    private List<String> sources = new ArrayList<>();

    @Option(names = {"--limit", "--num-images"}, paramLabel = "N",
            description = "Ingest at most N images of each source, spread evenly over it (every class is covered).")
    private long limit;

    @Option(names = "--no-bulk", description = "Ingest nothing on start: uploads only.")
    private boolean noBulk;

    @Option(names = "--dashboard-port", paramLabel = "PORT",
            description = "The local Flink dashboard's port (default: FLINK_WEB_PORT, else 8081; 0 = any free port).")
    private Integer dashboardPort;

    @Option(names = "--port", paramLabel = "PORT", description = "The API's port (default: API_PORT, else 8000; 0 = any free port).")
    private Integer port;

    private final IngestRun run = new IngestRun();

    @Override
    int run(CommandContext context) throws Exception {
        ImsrcConfig config = context.config();
        List<BulkSourceSpec> specs =
                CommandContext.arguments(() -> IngestCommandOptions.onceSources(config, sources, noBulk, limit));
        return run.run(context, config, new IngestRun.Plan(specs, true, true, dashboardPort, port, true));
    }

    /** Stops everything as Ctrl-C does; idempotent. */
    void stop() {
        run.stop();
    }

    IngestRun.Running running() {
        return run.running();
    }
}
