package io.imsrc.train;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.io.FileTrees;
import io.imsrc.train.dataset.LabelledImages;
import io.imsrc.train.dataset.TrainingDataException;
import io.imsrc.train.dataset.TrainingSet;
import io.imsrc.train.dataset.TrainingSetLoader;
import io.imsrc.train.loop.CheckpointState;
import io.imsrc.train.loop.Checkpoints;
import io.imsrc.train.loop.TrainingLoop;
import io.imsrc.train.loop.TrainingProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Objects;
import java.util.Optional;

/**
 * One {@code imsrc train} run from start to end: gathers the labelled images, trains (or resumes)
 * with checkpoints, writes the model's parameters and description into {@code
 * DATA_DIR/models/<name>/}, then loads that model through the {@link Embedder}, as ingest and
 * search will, and measures retrieval on the held-out images into the metrics file beside it.
 *
 * <p>Nothing is written before the data is read and checked: bad input (no labelled images, a
 * single category, a missing source) leaves the models folder as it was.
 *
 * <p>Layout of {@code DATA_DIR/models/<name>/}: {@code <name>.params} (DJL's parameter format),
 * {@code <name>.json} (the model description: MODEL_NAME takes its path, or just the name),
 * {@code <name>.metrics.json}, and {@code checkpoint/} while the run is unfinished.
 */
public final class ModelTraining {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /**
     * Where a run reads and writes.
     *
     * @param modelsDir DATA_DIR/models: the model's folder is created in it
     * @param cacheDir DATA_DIR/cache: downloads of URL sources
     * @param maxImageBytes larger images are left out (MAX_UPLOAD_SIZE)
     * @param maxImagePixels larger images are left out (MAX_IMAGE_PIXELS)
     * @param device where PyTorch trains
     */
    public record Environment(Path modelsDir, Path cacheDir, long maxImageBytes, long maxImagePixels, Device device) {
        public Environment {
            Objects.requireNonNull(modelsDir, "modelsDir");
            Objects.requireNonNull(cacheDir, "cacheDir");
            Objects.requireNonNull(device, "device");
        }
    }

    /**
     * How a run ended.
     *
     * @param outcome finished (the model is written) or stopped (a checkpoint to resume)
     * @param folder the model's folder
     * @param description the written model description file, when finished
     * @param metrics the measured figures, when finished
     */
    public record Result(TrainingLoop.Outcome outcome, Path folder, Path description, TrainingMetrics metrics) {}

    private final Environment environment;
    private final TrainingProgress progress;
    private volatile TrainingLoop loop;
    private volatile boolean stopRequested;

    public ModelTraining(Environment environment, TrainingProgress progress) {
        this.environment = Objects.requireNonNull(environment, "environment");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** The folder a model of this name is written to. */
    public Path folder(String name) {
        return environment.modelsDir().resolve(name);
    }

    /** The settings the interrupted run of {@code name} started with, when there is one to resume. */
    public Optional<TrainOptions> interruptedRun(String name) throws IOException {
        return new Checkpoints(folder(name).resolve("checkpoint")).read().map(CheckpointState::options);
    }

    /** Asks a running {@link #train} to stop at the next batch with a checkpoint; any thread. */
    public void requestStop() {
        stopRequested = true;
        TrainingLoop running = loop;
        if (running != null) {
            running.requestStop();
        }
    }

    /**
     * Trains a new model with {@code options}, or, with {@code resume}, continues the interrupted run
     * of {@code options.name()} with the settings it started with.
     *
     * @param library a connection to read the library's labelled images from, or {@code null} when
     *     the run does not use the library
     * @throws TrainingDataException when the data cannot be had or cannot train a model, the name is
     *     taken, or there is nothing to resume
     * @throws IOException when a file cannot be written
     * @throws EmbeddingException when the saved model cannot be loaded back for the evaluation
     */
    public Result train(TrainOptions options, boolean resume, Connection library)
            throws TrainingDataException, IOException, EmbeddingException {
        Path folder = folder(options.name());
        Checkpoints checkpoints = new Checkpoints(folder.resolve("checkpoint"));
        CheckpointState resumeFrom = null;
        if (resume) {
            Optional<CheckpointState> state = checkpoints.read();
            if (state.isEmpty()) {
                throw new TrainingDataException("no interrupted run of '" + options.name() + "' to resume: "
                        + checkpoints.folder().resolve("state.json") + " does not exist");
            }
            resumeFrom = state.get();
            options = resumeFrom.options();
        } else if (Files.exists(folder)) {
            throw new TrainingDataException(checkpoints.read().isPresent()
                    ? "an unfinished run of '" + options.name() + "' is in " + folder
                            + ": continue it with --resume, or delete the folder to start again"
                    : "a model named '" + options.name() + "' exists in " + folder
                            + ": give another --name, or delete the folder");
        }

        progress.note("reading the training images...");
        TrainingSetLoader loader = new TrainingSetLoader(new TrainingSetLoader.Inputs(options.sources(),
                options.holdoutSources(), options.holdoutFraction(), options.seed(), options.limit(),
                environment.cacheDir(), environment.maxImageBytes(), environment.maxImagePixels()), 32, 32);
        TrainingSet data = loader.load(options.library() ? library : null);
        describe(data);
        if (resumeFrom != null && resumeFrom.fingerprint() != data.train().fingerprint()) {
            throw new TrainingDataException("the training images differ from those the run of '" + options.name()
                    + "' started with (the library or a source changed); delete " + folder + " to start again");
        }
        if (stopRequested) {
            throw new TrainingDataException("stopped before training began");
        }

        TrainingLoop.Result result;
        if (resumeFrom != null && resumeFrom.finished()) {
            result = new TrainingLoop.Result(TrainingLoop.Outcome.FINISHED, resumeFrom);
        } else {
            TrainingLoop training = new TrainingLoop(data, checkpoints, progress, environment.device());
            loop = training;
            if (stopRequested) {
                training.requestStop();
            }
            result = training.run(options, resumeFrom);
            loop = null;
            if (result.outcome() == TrainingLoop.Outcome.STOPPED) {
                return new Result(result.outcome(), folder, null, null);
            }
        }
        Path description = ModelExport.export(options, data.train().classes(), result.state(), checkpoints, folder);
        progress.note("evaluating retrieval with the saved model: " + data.heldOut().size() + " held-out queries against "
                + data.train().size() + " training images...");
        TrainingMetrics metrics = ModelEvaluation.evaluate(options, data, result.state(), description,
                environment.modelsDir());
        Files.writeString(folder.resolve(options.name() + ".metrics.json"), JSON.writeValueAsString(metrics));
        FileTrees.deleteRecursively(checkpoints.folder());
        return new Result(TrainingLoop.Outcome.FINISHED, folder, description, metrics);
    }

    private void describe(TrainingSet data) {
        LabelledImages train = data.train();
        progress.note(train.size() + " training images in " + train.classes().size() + " categories ("
                + data.report().fromSources() + " from sources, " + data.report().fromLibrary()
                + " from the library, before the held-out split), " + data.heldOut().size() + " held out");
        data.report().notes().forEach(progress::note);
    }
}
