package io.imsrc.ingest;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The command-line options that say what to ingest, shared by the job's own entry point ({@code
 * flink run}) and the launcher's {@code ingest} command (a picocli mixin).
 */
public final class IngestCommandOptions {

    @Option(names = "--source", paramLabel = "LOCATION[#ROOT]",
            description = {"A folder or archive to ingest once: the CIFAR-10 binary archive (cifar-10-binary.tar.gz, "
                    + "path or URL; ROOT train or test), or a labelled image folder, .tar, .tar.gz or .zip (ROOT a folder "
                    + "inside it; an image's category is the folder above it). Repeatable. Default: CIFAR10_SOURCE."})
    List<String> sources = new ArrayList<>();

    @Option(names = "--watch", paramLabel = "FOLDER[#ROOT]",
            description = "A folder to watch: images that appear in it are ingested as they come. Repeatable.")
    List<String> watched = new ArrayList<>();

    @Option(names = {"--limit", "--num-images"}, paramLabel = "N",
            description = "Ingest at most N images of each --source, spread evenly over it (so every class is covered).")
    long limit;

    @Option(names = "--no-uploads", description = "Do not read uploads from Kafka: ingest the bulk sources and stop.")
    boolean noUploads;

    @Option(names = "--no-bulk", description = "Ingest uploads (and watched folders) only, no --source or CIFAR10_SOURCE.")
    boolean noBulk;

    /** The bulk sources these options name, CIFAR10_SOURCE when none is given. */
    public List<BulkSourceSpec> bulkSources(ImsrcConfig config) {
        List<BulkSourceSpec> specs = new ArrayList<>(onceSources(config, sources, noBulk, limit));
        for (String folder : watched) {
            specs.add(BulkSourceSpec.parse(folder).watching());
        }
        return specs;
    }

    /**
     * The sources read once that {@code --source}, {@code --no-bulk} and {@code --limit} name:
     * {@code locations}, or CIFAR10_SOURCE when none is given, or none with {@code noBulk}.
     *
     * @throws IllegalArgumentException for a negative limit, or locations together with noBulk
     */
    public static List<BulkSourceSpec> onceSources(ImsrcConfig config, List<String> locations, boolean noBulk,
            long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("--limit must be positive, got " + limit);
        }
        if (noBulk) {
            if (!locations.isEmpty()) {
                throw new IllegalArgumentException("--no-bulk and --source contradict each other");
            }
            return List.of();
        }
        List<BulkSourceSpec> specs = new ArrayList<>();
        for (String location : locations.isEmpty() ? List.of(config.cifar10Source()) : locations) {
            specs.add(BulkSourceSpec.parse(location).withLimit(limit));
        }
        return specs;
    }

    /** Whether uploads are read from Kafka. */
    public boolean uploads() {
        return !noUploads;
    }
}
