package io.imsrc.launcher;

import ai.djl.engine.Engine;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelArchitecture;
import io.imsrc.launcher.CommandContext.Failure;
import io.imsrc.launcher.console.TrainingConsole;
import io.imsrc.launcher.services.EmbeddedServices;
import io.imsrc.train.ModelTraining;
import io.imsrc.train.TrainOptions;
import io.imsrc.train.dataset.TrainingDataException;
import io.imsrc.train.loop.TrainingLoop;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
public final class TrainCommand extends ImsrcCommand {

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

    @Override
    int run(CommandContext context) throws Exception {
        ImsrcConfig config = context.config();
        TrainOptions options = CommandContext.arguments(this::options);
        ai.djl.Device device;
        try {
            device = config.model().device().toDjl(Engine.getEngine("PyTorch").getGpuCount());
        } catch (EmbeddingException | RuntimeException e) {
            throw Failure.usage(e.getMessage());
        }
        TrainingConsole console = new TrainingConsole(context.console());
        ModelTraining training = new ModelTraining(new ModelTraining.Environment(
                config.dataDir().resolve("models").toAbsolutePath(), config.dataDir().resolve("cache").toAbsolutePath(),
                config.search().maxUploadSize(), config.model().maxImagePixels(), device), console);
        CountDownLatch done = new CountDownLatch(1);
        try (CommandContext.ShutdownHook hook = context.onShutdown(() -> {
            training.requestStop();
            try {
                done.await(5, TimeUnit.MINUTES); // the checkpoint of the current batch
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            // The library is read only when the run uses it (a resumed run as it started).
            boolean needLibrary = resume
                    ? training.interruptedRun(name).map(TrainOptions::library).orElse(false) : options.library();
            ModelTraining.Result result;
            if (needLibrary) {
                try (EmbeddedServices services = context.services(config, false);
                        Connection library = DriverManager.getConnection(services.database().jdbcUrl(),
                                services.database().user(), services.database().password() == null ? ""
                                        : services.database().password())) {
                    result = training.train(options, resume, library);
                }
            } else {
                result = training.train(options, resume, null);
            }
            if (result.outcome() == TrainingLoop.Outcome.STOPPED) {
                console.stopped(name);
            } else {
                console.trained(name, result);
            }
            return 0;
        } catch (TrainingDataException e) {
            throw Failure.usage(e.getMessage());
        } finally {
            done.countDown();
        }
    }

    /** The run's options from the command's; {@code --resume} takes none but the name. */
    private TrainOptions options() {
        if (resume) {
            List<String> given = spec.commandLine().getParseResult().matchedOptions().stream()
                    .map(o -> o.longestName()).filter(o -> !o.equals("--name") && !o.equals("--resume")).toList();
            if (!given.isEmpty()) {
                throw new IllegalArgumentException("--resume continues with the settings the run started with; "
                        + "leave out " + String.join(", ", given));
            }
        }
        return TrainOptions.builder()
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
    }
}
