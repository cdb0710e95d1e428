package io.imsrc.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.XavierInitializer;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.Normalization;
import io.imsrc.common.embed.network.CosineEmbeddingNetwork;
import io.imsrc.common.embed.network.Networks;
import io.imsrc.common.io.FileTrees;
import io.imsrc.train.loop.CheckpointState;
import io.imsrc.train.loop.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Turns a finished run's last checkpoint into the model files: {@code NAME.params} in DJL's
 * parameter format (what {@code Model.save} writes: a header, then the block's parameters) and
 * {@code NAME.json}, the description the embedder builds the network from. The parameters file's
 * bytes depend only on the parameters, so the same training gives the same model id.
 */
final class ModelExport {

    private static final String ENGINE = "PyTorch";

    private ModelExport() {}

    /**
     * Writes the model of {@code state} into {@code folder}.
     *
     * @param classes the labels, in the classifier's order
     * @return the description file
     */
    static Path export(TrainOptions options, List<String> classes, CheckpointState state, Checkpoints checkpoints,
            Path folder) throws IOException {
        CosineEmbeddingNetwork network = Networks.build(options.architecture(), classes.size());
        network.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT); // replaced by the checkpoint's
        Path staging = Files.createTempDirectory(folder, ".export");
        try (Model model = Model.newInstance(options.name(), Device.cpu(), ENGINE)) {
            model.setBlock(network);
            network.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, 32, 32));
            checkpoints.loadParameters(state, network, model.getNDManager());
            model.setProperty("Epoch", Integer.toString(state.epoch()));
            model.save(staging, options.name()); // DJL names the file NAME-EPOCH.params
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
            FileTrees.deleteRecursively(staging);
        }
    }
}
