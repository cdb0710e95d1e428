package io.imsrc.common.embed;

import io.imsrc.common.config.ImsrcConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

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
     * Resolves the configured model: MODEL_NAME is a built-in description or a description JSON
     * file, MODEL_PATH replaces its model file; a URL is downloaded into DATA_DIR/models once.
     *
     * @throws IOException when the model file cannot be found or downloaded
     * @throws IllegalArgumentException when MODEL_NAME names no built-in description
     */
    public static ConfiguredModel resolve(ImsrcConfig config) throws IOException {
        String name = config.model().name();
        ModelDescription description = name.endsWith(".json") ? ModelDescription.fromJson(Path.of(name))
                : ModelDescription.builtIn(name);
        if (config.model().path() != null) {
            description = description.withModel(config.model().path());
        }
        Path cacheDir = config.dataDir().resolve("models").toAbsolutePath();
        String location = description.model();
        if (config.model().path() == null && !description.isUrl() && !Path.of(location).isAbsolute()) {
            // A built-in description names a bare file: it lives in DATA_DIR/models.
            location = cacheDir.resolve(location).toString();
        }
        Path modelFile;
        try {
            modelFile = ModelLocator.resolve(location, cacheDir);
        } catch (IOException e) {
            String what = description.isUrl() ? "cannot download the model " + location + " (" + e.getMessage() + ")"
                    : "no model file at " + Path.of(location).toAbsolutePath().normalize();
            throw new IOException(what + ". Put the TorchScript file of " + description.name() + " at "
                    + cacheDir.resolve(description.name() + ".pt") + ", or set MODEL_PATH to its path or http(s) URL "
                    + "(MODEL_NAME picks the model description; the README's \"Your own model\" says how to export one)", e);
        }
        if (!description.isUrl()) {
            description = description.withModel(modelFile.toAbsolutePath().toString());
        }
        return new ConfiguredModel(description, ModelId.forFile(description.name(), modelFile), cacheDir);
    }
}
