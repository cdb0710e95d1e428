package io.imsrc.launcher;

import ai.djl.engine.Engine;
import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelArchitecture;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.train.ModelTraining;
import io.imsrc.train.TrainOptions;
import io.imsrc.train.TrainingMetrics;
import io.imsrc.train.dataset.TrainingDataException;
import io.imsrc.train.loop.EpochStats;
import io.imsrc.train.loop.TrainingLoop;
import io.imsrc.train.loop.TrainingProgress;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code imsrc train}: trains an embedding model on labelled images (the library's and those of
 * sources) and writes it to DATA_DIR/models/NAME/, ready for MODEL_NAME. Ctrl-C writes a checkpoint
 * that {@code --resume} continues from.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains an image embedding network (a CIFAR ResNet with a cosine classifier, CosFace loss) with "
                + "DJL on labelled images: the library's (images whose category came from a label) and those of "
                + "--source. Evaluates retrieval on held-out images and writes the model, its description and its "
                + "metrics to DATA_DIR/models/NAME/; then MODEL_NAME=NAME uses it.",
            "Progress shows every 10 seconds; a checkpoint is written after every epoch and on Ctrl-C, and "
                    + "`imsrc train --name NAME --resume` continues from it."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:trained (stopped by Ctrl-C or SIGTERM with its checkpoint written, the shell sees 130 "
                + "or 143)", "1:training failed", "2:bad settings or data: nothing was written"})
public final class TrainCommand implements Callable<Integer> {

    private static final long REPORT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    @Spec
    CommandSpec spec;

    @Option(names = "--name", required = true, paramLabel = "NAME",
            description = "the model's name: its folder under DATA_DIR/models and the start of its model id")
    String name;

    @Option(names = "--resume", description = "continue the interrupted run of NAME with the settings it started with")
    boolean resume;

    @Option(names = "--source", paramLabel = "LOCATION[#ROOT]",
            description = "a labelled source to train on, as `imsrc ingest --source` takes it (repeatable)")
    List<String> sources = new ArrayList<>();

    @Option(names = "--holdout", paramLabel = "LOCATION[#ROOT]",
            description = "a labelled source whose images are held out for evaluation, for example CIFAR-10's test "
                    + "split (repeatable); without one, --holdout-fraction of the images is held out")
    List<String> holdoutSources = new ArrayList<>();

    @Option(names = "--holdout-fraction", paramLabel = "F", description = "default: ${DEFAULT-VALUE}")
    double holdoutFraction = TrainOptions.defaults().holdoutFraction();

    @Option(names = "--no-library", negatable = false,
            description = "train on the sources only, not on the labelled images stored in PostgreSQL")
    boolean noLibrary;

    @Option(names = "--epochs", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int epochs = TrainOptions.defaults().epochs();

    @Option(names = "--batch-size", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int batchSize = TrainOptions.defaults().batchSize();

    @Option(names = "--learning-rate", paramLabel = "R", description = "the peak rate; default: ${DEFAULT-VALUE}")
    float learningRate = TrainOptions.defaults().learningRate();

    @Option(names = "--warmup-epochs", paramLabel = "E", description = "default: ${DEFAULT-VALUE}")
    float warmupEpochs = TrainOptions.defaults().warmupEpochs();

    @Option(names = "--weight-decay", paramLabel = "W", description = "default: ${DEFAULT-VALUE}")
    float weightDecay = TrainOptions.defaults().weightDecay();

    @Option(names = "--margin", paramLabel = "M", description = "CosFace's margin; default: ${DEFAULT-VALUE}")
    float margin = TrainOptions.defaults().margin();

    @Option(names = "--scale", paramLabel = "S", description = "the cosine classifier's scale; default: ${DEFAULT-VALUE}")
    float scale = TrainOptions.defaults().architecture().scale();

    @Option(names = "--depth", paramLabel = "N", description = "ResNet depth, 6n+2; default: ${DEFAULT-VALUE}")
    int depth = TrainOptions.defaults().architecture().depth();

    @Option(names = "--width", paramLabel = "N",
            description = "channels of the first stage; the embedding has 4x as many dimensions; default: ${DEFAULT-VALUE}")
    int width = TrainOptions.defaults().architecture().width();

    @Option(names = "--seed", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    long seed = TrainOptions.defaults().seed();

    @Option(names = "--limit", paramLabel = "N", description = "at most N images of each source, spread over it")
    long limit;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch threads; default: one per core")
    int threads;

    private final Settings settings;
    private final PrintStream out;

    public TrainCommand() {
        this(Settings.fromEnvironment(), System.out);
    }

    TrainCommand(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    @Override
    public Integer call() {
        ImsrcConfig config;
        TrainOptions options;
        try {
            config = ImsrcConfig.from(settings);
            if (resume) {
                List<String> given = spec.commandLine().getParseResult().matchedOptions().stream()
                        .map(o -> o.longestName()).filter(o -> !o.equals("--name") && !o.equals("--resume")).toList();
                if (!given.isEmpty()) {
                    throw new IllegalArgumentException("--resume continues with the settings the run started with; "
                            + "leave out " + String.join(", ", given));
                }
            }
            options = TrainOptions.builder()
                    .name(name)
                    .architecture(ModelArchitecture.cifarResnet(depth, width, scale))
                    .margin(margin)
                    .epochs(epochs)
                    .batchSize(batchSize)
                    .learningRate(learningRate)
                    .warmupEpochs(warmupEpochs)
                    .weightDecay(weightDecay)
                    .seed(seed)
                    .sources(sources)
                    .holdoutSources(holdoutSources)
                    .holdoutFraction(holdoutSources.isEmpty() ? holdoutFraction : 0)
                    .library(!noLibrary)
                    .limit(limit)
                    .threads(threads)
                    .build();
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("imsrc train: " + e.getMessage());
            return 2;
        }
        ai.djl.Device device;
        try {
            device = config.model().device().toDjl(Engine.getEngine("PyTorch").getGpuCount());
        } catch (EmbeddingException | RuntimeException e) {
            System.err.println("imsrc train: " + e.getMessage());
            return 2;
        }
        ModelTraining training = new ModelTraining(new ModelTraining.Environment(
                config.dataDir().resolve("models").toAbsolutePath(), config.dataDir().resolve("cache").toAbsolutePath(),
                config.search().maxUploadSize(), config.model().maxImagePixels(), device), new ConsoleProgress(out));
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            training.requestStop();
            try {
                done.await(5, TimeUnit.MINUTES); // the checkpoint of the current batch
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "imsrc-train-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            // The library is read only when the run uses it (a resumed run as it started).
            boolean needLibrary = resume
                    ? training.interruptedRun(name).map(TrainOptions::library).orElse(false) : options.library();
            ModelTraining.Result result;
            if (needLibrary) {
                try (EmbeddedServices services = EmbeddedServices.start(config, false);
                        Connection library = DriverManager.getConnection(services.database().jdbcUrl(),
                                services.database().user(), services.database().password() == null ? ""
                                        : services.database().password())) {
                    result = training.train(options, resume, library);
                }
            } else {
                result = training.train(options, resume, null);
            }
            if (result.outcome() == TrainingLoop.Outcome.STOPPED) {
                out.println("imsrc train: stopped; `imsrc train --name " + name + " --resume` continues");
                return 0;
            }
            TrainingMetrics m = result.metrics();
            out.printf(Locale.ROOT, "imsrc train: %s (model id %s, %,d bytes) in %s%n", result.description(),
                    m.modelId(), m.parametersBytes(), result.folder());
            out.printf(Locale.ROOT, "  held-out: classifier accuracy %.4f, precision@10 %.4f (prototypes, top 3: %.4f) "
                    + "over %,d queries; trained %s at %.0f images/s%n", m.heldOutAccuracy(), m.precisionAt10(),
                    m.precisionAt10Prototypes(), m.heldOutImages(), ConsoleProgress.duration(m.trainingSeconds()),
                    m.imagesPerSecond());
            // A built-in name keeps naming the built-in model: this one is then named by its file.
            String use = ModelDescription.isBuiltIn(name) ? result.description().toString() : name;
            out.println("  use it: MODEL_NAME=" + use + " bin/imsrc   (the vectors of a new model are computed anew: "
                    + "ingest again)");
            return 0;
        } catch (TrainingDataException e) {
            System.err.println("imsrc train: " + e.getMessage());
            return 2;
        } catch (ServiceStartException e) {
            System.err.println("imsrc train: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            System.err.println("imsrc train: " + IngestRun.rootMessage(e));
            return 1;
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is running and has been released
            }
        }
    }

    /** Prints a progress line every 10 seconds and one line per epoch. */
    static final class ConsoleProgress implements TrainingProgress {
        private final PrintStream out;
        private long lastReport = System.nanoTime();

        ConsoleProgress(PrintStream out) {
            this.out = out;
        }

        @Override
        public void batch(int epoch, int batch, int batches, double loss, double accuracy, double imagesPerSecond,
                double secondsLeft) {
            long now = System.nanoTime();
            if (now - lastReport < REPORT_INTERVAL_NANOS) {
                return;
            }
            lastReport = now;
            out.printf(Locale.ROOT, "imsrc train: epoch %d, batch %d/%d: loss %.4f, accuracy %.4f, %.0f images/s, "
                    + "%s left%n", epoch, batch, batches, loss, accuracy, imagesPerSecond, duration(secondsLeft));
        }

        @Override
        public void epoch(EpochStats s, int epochs) {
            out.printf(Locale.ROOT, "imsrc train: epoch %d/%d done in %s: loss %.4f, accuracy %.4f, held-out accuracy "
                    + "%.4f, learning rate %.4f, %.0f images/s; checkpoint written%n", s.epoch(), epochs,
                    duration(s.seconds()), s.loss(), s.accuracy(), s.heldOutAccuracy(), s.learningRate(),
                    s.imagesPerSecond());
        }

        @Override
        public void note(String message) {
            out.println("imsrc train: " + message);
        }

        static String duration(double seconds) {
            long s = Math.round(seconds);
            if (s < 60) {
                return s + " s";
            }
            if (s < 3600) {
                return s / 60 + " min " + s % 60 + " s";
            }
            return s / 3600 + " h " + s % 3600 / 60 + " min";
        }
    }
}
