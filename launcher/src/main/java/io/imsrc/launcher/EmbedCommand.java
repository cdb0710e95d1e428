package io.imsrc.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.image.InvalidImageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code imsrc embed FILE...}: decodes and embeds image files and prints one JSON object per file
 * on standard output (JSON lines, in argument order); logs go to standard error.
 *
 * <p>A file that cannot be read or decoded gets an error object and the others are still embedded.
 * Exit codes: 0 all embedded, 1 some files failed, 2 bad arguments or settings, 3 the model could
 * not be loaded or run.
 *
 * <p>Settings come from the options, else from the environment (MODEL_NAME, MODEL_PATH, DEVICE,
 * BATCH_SIZE, DATA_DIR, as in the README's configuration reference), else from the built-in
 * defaults. It lives in the launcher, not beside the embedder in common, because it reads the
 * configuration: common's embed package stays below its config package (docs/design.md).
 */
@Command(
        name = "embed",
        description = "Embeds image files with the imsrc model and prints one JSON line per file.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every file was embedded",
            "1:some files could not be read or decoded (see their error objects)",
            "2:bad arguments or settings",
            "3:the model could not be loaded or run"
        })
public final class EmbedCommand extends ImsrcCommand {

    static final int EXIT_SOME_FAILED = 1;
    static final int EXIT_USAGE = CommandContext.EXIT_USAGE;
    static final int EXIT_MODEL = 3;

    /** Opens the embedder the command uses; tests hand in the shared one. */
    @FunctionalInterface
    interface EmbedderSource {
        Embedder open(ModelDescription description, EmbedderOptions options) throws IOException, EmbeddingException;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Image files (JPEG, PNG, BMP, GIF).")
    private List<Path> files;

    @Option(names = "--model-description", paramLabel = "FILE",
            description = "A model description JSON file; default: the one MODEL_NAME names (without it, the "
                    + "model imsrc ships).")
    private Path descriptionFile;

    @Option(names = "--model", paramLabel = "PATH|URL",
            description = "The model file (TorchScript, or the parameters of a trained model) or URL; default: "
                    + "MODEL_PATH, else the description's.")
    private String model;

    @Option(names = "--device", paramLabel = "auto|cpu|cuda", description = "Default: DEVICE, else auto.")
    private String device;

    @Option(names = "--batch-size", paramLabel = "N",
            description = "Images per forward pass; default: BATCH_SIZE, else " + EmbedderOptions.DEFAULT_BATCH_SIZE + ".")
    private Integer batchSize;

    @Option(names = "--head", paramLabel = "N", defaultValue = "8",
            description = "How many leading embedding values to print (default: ${DEFAULT-VALUE}).")
    private int head;

    @Option(names = "--full", description = "Print the whole embedding instead of its head.")
    private boolean full;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    private boolean help;

    private final EmbedderSource source;
    private final boolean ownsEmbedder;

    /**
     * The command as users run it: reads the real environment (over the working directory's .env
     * file) and loads its own model.
     */
    public EmbedCommand() {
        this(Embedder::load, true);
    }

    EmbedCommand(Map<String, String> env, EmbedderSource source, boolean ownsEmbedder) {
        this(Settings.of(env), source, ownsEmbedder);
    }

    /**
     * @param settings the configuration to read (MODEL_NAME, MODEL_PATH, DEVICE, BATCH_SIZE,
     *     MAX_IMAGE_PIXELS, DATA_DIR, checked like every other entry point's)
     * @param source opens the embedder
     * @param ownsEmbedder whether the command closes the embedder when done (false for a shared one)
     */
    EmbedCommand(Settings settings, EmbedderSource source, boolean ownsEmbedder) {
        this(source, ownsEmbedder);
        withSettings(Objects.requireNonNull(settings, "settings"));
    }

    private EmbedCommand(EmbedderSource source, boolean ownsEmbedder) {
        this.source = Objects.requireNonNull(source, "source");
        this.ownsEmbedder = ownsEmbedder;
    }

    @Override
    int run(CommandContext context) throws CommandContext.Failure {
        ImsrcConfig config = context.config();
        ModelDescription description;
        EmbedderOptions options;
        try {
            description = description(config);
            options = options(config);
        } catch (ConfigException | IllegalArgumentException | IOException e) {
            throw CommandContext.Failure.usage(e.getMessage());
        }
        ImageDecodeOptions decodeOptions = ImageDecodeOptions.defaults().withMaxPixels(config.model().maxImagePixels());
        PrintWriter out = context.console().out();

        Embedder embedder = null;
        boolean anyFailed = false;
        try {
            // A batch of files at a time: each image is decoded and preprocessed at once (a few KB
            // of floats kept, the decoded pixels dropped), embedded with its batch, and printed.
            for (int from = 0; from < files.size(); from += options.batchSize()) {
                List<ObjectNode> lines = new ArrayList<>();
                List<ObjectNode> pending = new ArrayList<>();
                List<float[]> inputs = new ArrayList<>();
                for (Path file : files.subList(from, Math.min(files.size(), from + options.batchSize()))) {
                    ObjectNode line = JSON.createObjectNode().put("file", file.toString());
                    lines.add(line);
                    try {
                        DecodedImage image = ImageDecoder.decode(Files.readAllBytes(file), decodeOptions);
                        line.put("format", image.format().id()).put("width", image.width()).put("height", image.height());
                        inputs.add(description.preprocess(image));
                        pending.add(line);
                    } catch (InvalidImageException e) {
                        error(line, e.reason().name(), e.getMessage());
                    } catch (IOException e) {
                        error(line, "UNREADABLE", "cannot read the file: " + e);
                    }
                }
                if (!inputs.isEmpty()) {
                    if (embedder == null) {
                        embedder = source.open(description, options);
                    }
                    describe(embedder, embedder.embed(inputs), pending);
                }
                for (ObjectNode line : lines) {
                    anyFailed |= line.has("error");
                    out.println(toJson(line));
                }
                out.flush();
            }
        } catch (IOException | EmbeddingException e) {
            throw new CommandContext.Failure(EXIT_MODEL, e.getMessage());
        } finally {
            if (embedder != null && ownsEmbedder) {
                embedder.close();
            }
        }
        return anyFailed ? EXIT_SOME_FAILED : 0;
    }

    private void describe(Embedder embedder, List<Embedding> embeddings, List<ObjectNode> lines) {
        for (int i = 0; i < embeddings.size(); i++) {
            Embedding embedding = embeddings.get(i);
            ObjectNode line = lines.get(i);
            line.put("model_id", embedder.modelId().value()).put("dimension", embedding.dimension());
            ArrayNode values = line.putArray(full ? "embedding" : "embedding_head");
            int n = full ? embedding.dimension() : Math.min(head, embedding.dimension());
            for (int j = 0; j < n; j++) {
                values.add(embedding.vector()[j]);
            }
            if (embedding.predictedLabel() != null) {
                line.put("predicted", embedding.predictedLabel()).put("confidence", embedding.confidence());
            }
        }
    }

    ModelDescription description(ImsrcConfig config) throws IOException {
        if (descriptionFile == null && model == null) {
            return ConfiguredModel.locate(config); // as the job and the server find it
        }
        ModelDescription description = descriptionFile != null
                ? ModelDescription.fromJson(descriptionFile)
                : ConfiguredModel.describe(config.model().name(), config.dataDir().resolve("models").toAbsolutePath());
        String location = model != null ? model : config.model().path();
        return location == null ? description : description.withModel(location);
    }

    EmbedderOptions options(ImsrcConfig config) {
        return EmbedderOptions.builder()
                .device(device != null ? Device.parse(device) : config.model().device())
                .batchSize(batchSize != null ? batchSize : config.batch().batchSize())
                .modelCacheDir(config.dataDir().resolve("models"))
                .build();
    }

    private static void error(ObjectNode line, String reason, String message) {
        line.putObject("error").put("reason", reason).put("message", message);
    }

    private static String toJson(ObjectNode line) {
        try {
            return JSON.writeValueAsString(line);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
    }
}
