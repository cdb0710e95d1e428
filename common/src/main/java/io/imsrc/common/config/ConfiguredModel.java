package io.imsrc.common.config;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.common.embed.ModelLocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The model the configuration names (MODEL_NAME, MODEL_PATH), resolved to a local file and its
 * model id, the same way for the ingest job and the query server, so both write and read the
 * vectors of one model id.
 *
 * @param description the model description; its model is an absolute local path unless it is a
 *     URL (which every process resolves through the cache itself)
 * @param modelId the description's name plus the start of the model file's SHA-256
 * @param cacheDir DATA_DIR/models, where a model URL is downloaded to
 */
public record ConfiguredModel(ModelDescription description, ModelId modelId, Path cacheDir) {

    public ConfiguredModel {
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(cacheDir, "cacheDir");
    }

    /**
     * Resolves the configured model: MODEL_NAME is a built-in description, a model trained into
     * DATA_DIR/models, or a description JSON file; MODEL_PATH replaces its model file; a URL is
     * downloaded, and a bundled model unpacked, into DATA_DIR/models once.
     *
     * @throws IOException when the model file cannot be found or downloaded
     * @throws IllegalArgumentException when MODEL_NAME names no built-in description
     */
    public static ConfiguredModel resolve(ImsrcConfig config) throws IOException {
        Path cacheDir = config.dataDir().resolve("models").toAbsolutePath();
        ModelDescription description = locate(config);
        String location = description.model();
        boolean fetched = isFetched(description);
        Path modelFile;
        try {
            modelFile = ModelLocator.resolve(location, cacheDir);
        } catch (IOException e) {
            String what = description.isUrl() ? "cannot download the model " + location + " (" + e.getMessage() + ")"
                    : description.isZoo() ? "cannot download the model " + location + " from DJL's model zoo ("
                            + e.getMessage() + "; DJL_REPO_URL names another model repository)"
                    : description.isBundled() ? "cannot unpack the bundled model " + location + " into " + cacheDir
                            + " (" + e.getMessage() + ")"
                    : "no model file at " + Path.of(location).toAbsolutePath().normalize();
            if (description.isZoo()) {
                throw new IOException(what + ". Offline, copy " + cacheDir.resolve("djl")
                        + " from a machine that downloaded the model, or set MODEL_PATH to a copy of its TorchScript file",
                        e);
            }
            String file = description.isDefinedInJava() ? "parameters file" : "TorchScript file";
            // Where the description looks for it; with MODEL_PATH set, where the built-in one would.
            Path expected = config.model().path() == null ? Path.of(location).toAbsolutePath()
                    : cacheDir.resolve(description.name() + (description.isDefinedInJava() ? ".params" : ".pt"));
            throw new IOException(what + ". Put the " + file + " of " + description.name() + " at "
                    + expected + ", or set MODEL_PATH to its path or "
                    + "http(s) URL (MODEL_NAME picks the model description; without MODEL_NAME imsrc uses the model it "
                    + "ships, " + ModelDescription.DEFAULT.name() + "; the README's \"Your own model\" says how to "
                    + "export or train one)", e);
        }
        if (!fetched) {
            description = description.withModel(modelFile.toAbsolutePath().toString());
        }
        return new ConfiguredModel(description, ModelId.forFile(description.name(), modelFile), cacheDir);
    }

    /**
     * The configured model's description without looking for its file: MODEL_NAME's description
     * with MODEL_PATH as its model, or, for a built-in description that names a bare file, that
     * file in DATA_DIR/models.
     *
     * @throws IOException when a description file cannot be read
     * @throws IllegalArgumentException when MODEL_NAME names no model
     */
    public static ModelDescription locate(ImsrcConfig config) throws IOException {
        Path cacheDir = config.dataDir().resolve("models").toAbsolutePath();
        ModelDescription description = describe(config.model().name(), cacheDir);
        if (config.model().path() != null) {
            if (description.isDefinedInJava() && config.model().path().endsWith(".pt")) {
                throw new IllegalArgumentException("MODEL_PATH " + config.model().path() + " looks like a TorchScript "
                        + "file, but the model " + description.name() + " is a network with trained parameters: set "
                        + "MODEL_NAME to the TorchScript model's description (for example resnet20-cifar10) as well");
            }
            return description.withModel(config.model().path());
        }
        if (!isFetched(description) && !Path.of(description.model()).isAbsolute()) {
            return description.withModel(cacheDir.resolve(description.model()).toString());
        }
        return description;
    }

    /** Whether the model file is fetched by every process itself (a URL, the zoo, the class path). */
    private static boolean isFetched(ModelDescription description) {
        return description.isUrl() || description.isBundled() || description.isZoo();
    }

    /**
     * The description MODEL_NAME names: a description file (ending in .json), a built-in name, or
     * the name of a model {@code imsrc train} wrote to DATA_DIR/models/NAME/NAME.json.
     */
    public static ModelDescription describe(String name, Path modelsDir) throws IOException {
        if (name.endsWith(".json")) {
            return ModelDescription.fromJson(Path.of(name));
        }
        if (ModelDescription.isBuiltIn(name)) {
            return ModelDescription.builtIn(name);
        }
        Path trained = modelsDir.resolve(name).resolve(name + ".json");
        if (Files.isRegularFile(trained)) {
            return ModelDescription.fromJson(trained);
        }
        List<String> found = new ArrayList<>();
        if (Files.isDirectory(modelsDir)) {
            try (Stream<Path> folders = Files.list(modelsDir)) {
                folders.filter(f -> Files.isRegularFile(f.resolve(f.getFileName() + ".json")))
                        .map(f -> f.getFileName().toString()).sorted().forEach(found::add);
            }
        }
        throw ModelDescription.unknown(name,
                found.isEmpty() ? "" : "; trained in " + modelsDir + ": " + String.join(", ", found));
    }
}
