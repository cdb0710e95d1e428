package io.imsrc.common.embed;

import java.util.Locale;

/** Where the model runs: the DEVICE setting. */
public enum Device {
    /** A GPU when PyTorch sees one, the CPU otherwise. */
    AUTO,
    CPU,
    /** The first CUDA GPU; loading fails when PyTorch sees none. */
    CUDA;

    /**
     * Parses {@code auto}, {@code cpu} or {@code cuda}, in any case.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Device parse(String value) {
        if (value != null) {
            switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "auto":
                    return AUTO;
                case "cpu":
                    return CPU;
                case "cuda":
                case "gpu":
                    return CUDA;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("unknown device '" + value + "': use auto, cpu or cuda");
    }

    /** The DJL device for this choice, given how many GPUs the engine sees. */
    public ai.djl.Device toDjl(int gpuCount) throws EmbeddingException {
        switch (this) {
            case CPU:
                return ai.djl.Device.cpu();
            case CUDA:
                if (gpuCount < 1) {
                    throw new EmbeddingException(
                            "device cuda was asked for but PyTorch sees no GPU (is the CUDA build of libtorch on the"
                                    + " class path instead of pytorch-native-cpu?)");
                }
                return ai.djl.Device.gpu();
            case AUTO:
                return gpuCount > 0 ? ai.djl.Device.gpu() : ai.djl.Device.cpu();
            default:
                throw new AssertionError(this);
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
