package io.imsrc.common.embed;

import io.imsrc.testing.SharedFiles;

/**
 * The ResNet-20 embedder, loaded once per test JVM and shared by every test that needs the real
 * model (loading costs about a second and native memory). Closed when the JVM exits; tests must
 * not close it.
 */
final class SharedEmbedder {

    private static Embedder resnet20;

    private SharedEmbedder() {}

    static synchronized Embedder resnet20() throws Exception {
        if (resnet20 == null) {
            ModelDescription description = ModelDescription.RESNET20_CIFAR10
                    .withModel(SharedFiles.model("resnet20-cifar10.pt").toString());
            Embedder embedder = Embedder.load(description, EmbedderOptions.builder().device(Device.CPU).build());
            Runtime.getRuntime().addShutdownHook(new Thread(embedder::close, "close-shared-embedder"));
            resnet20 = embedder;
        }
        return resnet20;
    }
}
