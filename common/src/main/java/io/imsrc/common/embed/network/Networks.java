package io.imsrc.common.embed.network;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.imsrc.common.embed.ModelArchitecture;

/**
 * Builds the block a {@link ModelArchitecture} describes, the same for training ({@code imsrc
 * train}) and for loading its parameters into the embedder: any change here changes what existing
 * parameter files mean, so the architecture's fields must say everything that differs.
 */
public final class Networks {

    private Networks() {}

    /**
     * The uninitialised network: outputs the L2-normalised embedding and one logit per class.
     *
     * @param classes the number of labels of the model description
     */
    public static CosineEmbeddingNetwork build(ModelArchitecture architecture, int classes) {
        Block trunk = switch (architecture.type()) {
            case ModelArchitecture.CIFAR_RESNET -> CifarResNet.trunk(architecture);
            default -> throw new IllegalArgumentException("unknown architecture type " + architecture.type());
        };
        return new CosineEmbeddingNetwork(trunk, classes, architecture.scale());
    }

    /**
     * The inference form of a network {@link #build} made and whose parameters are loaded: the same
     * outputs, computed faster; its arrays belong to {@code manager}.
     */
    public static Block forInference(CosineEmbeddingNetwork network, ModelArchitecture architecture, NDManager manager) {
        return switch (architecture.type()) {
            case ModelArchitecture.CIFAR_RESNET -> FoldedCifarResNet.fold(network, architecture, manager);
            default -> throw new IllegalArgumentException("unknown architecture type " + architecture.type());
        };
    }
}
