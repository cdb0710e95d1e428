package io.imsrc.common.embed;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.io.Serializable;
import java.util.Objects;

/**
 * A network imsrc defines in Java (rather than loads as TorchScript): what {@code
 * io.imsrc.common.embed.network.Networks} needs to build the block again, so that a parameters
 * file written by {@code imsrc train} can be loaded into it. Part of a {@link ModelDescription}.
 *
 * <p>JSON form: {@code {"type": "cifar-resnet", "depth": 20, "width": 16, "scale": 16.0}}.
 *
 * @param type the network family; {@value #CIFAR_RESNET} is the only one so far
 * @param depth layers of the CIFAR ResNet: 6n + 2 (20, 32, 44, 56, 110)
 * @param width channels of the first stage; the stages have width, 2 x width and 4 x width
 *     channels, and the embedding has 4 x width dimensions
 * @param scale the cosine classifier's scale: logits are {@code scale x cos(embedding, class
 *     weight)}, so a softmax of them gives the class probabilities the model was trained with
 */
public record ModelArchitecture(String type, int depth, int width, float scale) implements Serializable {

    public static final String CIFAR_RESNET = "cifar-resnet";

    public ModelArchitecture {
        Objects.requireNonNull(type, "type");
        if (!CIFAR_RESNET.equals(type)) {
            throw new IllegalArgumentException("unknown architecture type '" + type + "': known is " + CIFAR_RESNET);
        }
        if (depth < 8 || depth > 1202 || (depth - 2) % 6 != 0) {
            throw new IllegalArgumentException("a CIFAR ResNet has 6n + 2 layers (20, 32, 44, 56, 110), got " + depth);
        }
        if (width < 1 || width > 256) {
            throw new IllegalArgumentException("width must be in [1, 256], got " + width);
        }
        if (!(scale > 0 && scale <= 1000)) {
            throw new IllegalArgumentException("scale must be in (0, 1000], got " + scale);
        }
    }

    /** A CIFAR ResNet of {@code depth} layers with {@code width} channels in its first stage. */
    public static ModelArchitecture cifarResnet(int depth, int width, float scale) {
        return new ModelArchitecture(CIFAR_RESNET, depth, width, scale);
    }

    /** Residual units per stage: (depth - 2) / 6. */
    @JsonIgnore
    public int unitsPerStage() {
        return (depth - 2) / 6;
    }

    /** The length of the embedding: the last stage's channels. */
    @JsonIgnore
    public int embeddingDimension() {
        return 4 * width;
    }
}
