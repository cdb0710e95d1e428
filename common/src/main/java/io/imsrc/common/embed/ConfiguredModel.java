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
     * Resolves the configured model; a URL is downloaded into DATA_DIR/models once.
     *
     * @throws IOException when the model file cannot be found or downloaded
     * @throws IllegalArgumentException when MODEL_NAME names no built-in description
     */
    public static ConfiguredModel resolve(ImsrcConfig config) throws IOException {
        ModelDescription description = ModelDescription.builtIn(config.model().name());
        if (config.model().path() != null) {
            description = description.withModel(config.model().path());
        }
        Path cacheDir = config.dataDir().resolve("models").toAbsolutePath();
        Path modelFile = ModelLocator.resolve(description.model(), cacheDir);
        if (!description.isUrl()) {
            description = description.withModel(modelFile.toAbsolutePath().toString());
        }
        return new ConfiguredModel(description, ModelId.forFile(description.name(), modelFile), cacheDir);
    }
}
