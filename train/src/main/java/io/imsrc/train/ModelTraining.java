package io.imsrc.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.XavierInitializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.common.embed.Normalization;
import io.imsrc.common.embed.network.CosineEmbeddingNetwork;
import io.imsrc.common.embed.network.Networks;
import io.imsrc.train.data.LabelledImages;
import io.imsrc.train.data.TrainingDataException;
import io.imsrc.train.data.TrainingSet;
import io.imsrc.train.data.TrainingSetLoader;
import io.imsrc.train.eval.RetrievalEvaluation;
import io.imsrc.train.loop.Augmentation;
import io.imsrc.train.loop.CheckpointState;
import io.imsrc.train.loop.Checkpoints;
import io.imsrc.train.loop.TrainingLoop;
import io.imsrc.train.loop.TrainingProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

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
    private static final String ENGINE = "PyTorch";
    private static final int EMBED_BATCH = 256;

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
        Path description = export(options, data.train().classes(), result.state(), checkpoints, folder);
        TrainingMetrics metrics = evaluate(options, data, result.state(), description);
        Files.writeString(folder.resolve(options.name() + ".metrics.json"), JSON.writeValueAsString(metrics));
        deleteRecursively(checkpoints.folder());
        return new Result(TrainingLoop.Outcome.FINISHED, folder, description, metrics);
    }

    private void describe(TrainingSet data) {
        LabelledImages train = data.train();
        progress.note(train.size() + " training images in " + train.classes().size() + " categories ("
                + data.report().fromSources() + " from sources, " + data.report().fromLibrary()
                + " from the library, before the held-out split), " + data.heldOut().size() + " held out");
        data.report().notes().forEach(progress::note);
    }

    /** Writes {@code <name>.params} and {@code <name>.json} from the final checkpoint. */
    static Path export(TrainOptions options, List<String> classes, CheckpointState state, Checkpoints checkpoints,
            Path folder) throws IOException {
        CosineEmbeddingNetwork network = Networks.build(options.architecture(), classes.size());
        network.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
        Path staging = Files.createTempDirectory(folder, ".export");
        try (Model model = Model.newInstance(options.name(), Device.cpu(), ENGINE)) {
            model.setBlock(network);
            network.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, 32, 32));
            checkpoints.loadParameters(state, network, model.getNDManager());
            model.setProperty("Epoch", Integer.toString(state.epoch()));
            model.save(staging, options.name());
            Path saved;
            try (Stream<Path> files = Files.list(staging)) {
                saved = files.filter(f -> f.getFileName().toString().endsWith(".params")).findFirst()
                        .orElseThrow(() -> new IOException("DJL wrote no parameters file into " + staging));
            }
            Path parameters = folder.resolve(options.name() + ".params");
            Files.move(saved, parameters, StandardCopyOption.REPLACE_EXISTING);
            ModelDescription description = new ModelDescription(options.name(), parameters.getFileName().toString(),
                    32, 32, Normalization.INSIDE_MODEL, 0, 1, classes, options.architecture());
            Path json = folder.resolve(options.name() + ".json");
            Files.writeString(json, description.toJson() + "\n");
            return json;
        } finally {
            deleteRecursively(staging);
        }
    }

    /** Loads the written model through the embedder and measures it on the held-out images. */
    private TrainingMetrics evaluate(TrainOptions options, TrainingSet data, CheckpointState state, Path json)
            throws IOException, EmbeddingException {
        progress.note("evaluating retrieval with the saved model: " + data.heldOut().size() + " held-out queries against "
                + data.train().size() + " training images...");
        ModelDescription description = ModelDescription.fromJson(json);
        EmbedderOptions embedderOptions = EmbedderOptions.builder()
                .device(io.imsrc.common.embed.Device.CPU)
                .batchSize(EMBED_BATCH)
                .modelCacheDir(environment.modelsDir())
                .build();
        try (Embedder embedder = Embedder.load(description, embedderOptions)) {
            List<Embedding> trainEmbeddings = embedAll(embedder, data.train());
            List<Embedding> heldOutEmbeddings = embedAll(embedder, data.heldOut());
            RetrievalEvaluation.Result retrieval = RetrievalEvaluation.evaluate(
                    vectors(trainEmbeddings), labels(data.train()), vectors(heldOutEmbeddings), labels(data.heldOut()),
                    data.train().classes().size(), 10, 3);
            long correct = 0;
            for (int i = 0; i < heldOutEmbeddings.size(); i++) {
                if (data.train().classes().get(data.heldOut().label(i)).equals(heldOutEmbeddings.get(i).predictedLabel())) {
                    correct++;
                }
            }
            Map<String, Integer> perClass = new LinkedHashMap<>();
            int[] counts = data.train().classCounts();
            for (int c = 0; c < counts.length; c++) {
                perClass.put(data.train().classes().get(c), counts[c]);
            }
            Path parameters = Path.of(description.model());
            long imagesTrained = (long) data.train().size() / Math.min(options.batchSize(), data.train().size())
                    * Math.min(options.batchSize(), data.train().size()) * options.epochs();
            return new TrainingMetrics(options.name(), ModelId.forFile(options.name(), parameters).value(),
                    Files.size(parameters), data.train().size(), data.heldOut().size(), data.train().classes(),
                    perClass, options, state.trainingSeconds(), imagesTrained / Math.max(1e-9, state.trainingSeconds()),
                    (double) correct / data.heldOut().size(), retrieval.precisionGlobal(),
                    retrieval.precisionPrototypes(), retrieval.prototypeTop1(), state.history(), environmentFacts(),
                    Instant.now().toString());
        }
    }

    private static List<Embedding> embedAll(Embedder embedder, LabelledImages images) throws EmbeddingException {
        List<Embedding> out = new ArrayList<>(images.size());
        int chunk = 4096;
        for (int from = 0; from < images.size(); from += chunk) {
            List<float[]> inputs = new ArrayList<>();
            for (int i = from; i < Math.min(images.size(), from + chunk); i++) {
                float[] input = new float[images.imageLength()];
                Augmentation.plain(images.pixels(i), input, 0);
                inputs.add(input);
            }
            out.addAll(embedder.embed(inputs));
        }
        return out;
    }

    private static float[][] vectors(List<Embedding> embeddings) {
        float[][] out = new float[embeddings.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = embeddings.get(i).vector();
        }
        return out;
    }

    private static int[] labels(LabelledImages images) {
        int[] out = new int[images.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = images.label(i);
        }
        return out;
    }

    private static Map<String, String> environmentFacts() {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        facts.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        facts.put("java", System.getProperty("java.version"));
        facts.put("djl", Engine.getDjlVersion());
        facts.put("pytorch", Engine.getEngine(ENGINE).getVersion());
        return facts;
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
