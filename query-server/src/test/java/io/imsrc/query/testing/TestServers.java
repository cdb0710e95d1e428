package io.imsrc.query.testing;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.QueryServerOptions;
import io.imsrc.testing.SharedFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The query server as the integration tests run it: the reference ResNet-20 (its TorchScript file
 * from the shared models), on the CPU, exact indexes, a fast refresh, the loopback address and a
 * free port. Each test adds its database, Kafka and whatever it is about.
 */
public final class TestServers {

    private TestServers() {}

    /** The reference ResNet-20 as a configured model, its files cached under {@code cacheDir}. */
    public static ConfiguredModel referenceModel(Path cacheDir) throws IOException {
        Path modelFile = SharedFiles.model("resnet20-cifar10.pt");
        ModelDescription description = ModelDescription.RESNET20_CIFAR10.withModel(modelFile.toString());
        return new ConfiguredModel(description, ModelId.forFile(description.name(), modelFile), cacheDir);
    }

    /** Options with the tests' defaults for {@code model}, the index saved at {@code indexPath}. */
    public static QueryServerOptions.Builder options(ConfiguredModel model, Path indexPath) {
        return QueryServerOptions.builder()
                .model(model)
                .device(Device.CPU)
                .indexType(IndexType.FLATL2)
                .indexPath(indexPath)
                .refreshInterval(Duration.ofMillis(200))
                .host("127.0.0.1")
                .port(0);
    }
}
