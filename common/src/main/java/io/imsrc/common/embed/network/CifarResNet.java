package io.imsrc.common.embed.network;

import ai.djl.basicmodelzoo.cv.classification.ResNetV1;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import io.imsrc.common.embed.ModelArchitecture;

/**
 * The trunk of a CIFAR ResNet (He et al. 2016, section 4.2): a 3 x 3 convolution, three stages of
 * {@code n} basic residual units with {@code w}, {@code 2w} and {@code 4w} channels (the second and
 * third halving the resolution), and global average pooling. Input N x 3 x H x W, RGB in [0, 1];
 * output the N x 4w pooled features, not normalised.
 *
 * <p>The residual units are DJL's own ({@link ResNetV1#residualUnit}: two 3 x 3 convolutions with
 * batch norm, a 1 x 1 projection where the shape changes). DJL's {@link ResNetV1.Builder} itself
 * does not fit: it takes the CIFAR layout only for images up to 28 pixels high, gives 32 x 32 input
 * the ImageNet bottleneck network, and has no batch norm after its first convolution.
 *
 * <p>Normalisation by CIFAR-10's channel means and deviations happens inside the network, so the
 * model's contract is that of the TorchScript CIFAR models: pixels scaled to [0, 1], nothing else.
 */
public final class CifarResNet {

    /** CIFAR-10's per-channel pixel mean and standard deviation (training split, in [0, 1]). */
    static final float[] MEAN = {0.4914f, 0.4822f, 0.4465f};
    static final float[] STD = {0.2470f, 0.2435f, 0.2616f};

    /** DJL's default: running statistics keep 0.9 of their value at every training batch. */
    private static final float BATCH_NORM_MOMENTUM = 0.9f;

    /** Batch norm's epsilon, here and inside DJL's residual units: {@link FoldedCifarResNet} relies on it. */
    static final float BATCH_NORM_EPSILON = 1e-5f;

    private CifarResNet() {}

    /** The trunk of {@code architecture}, uninitialised. */
    public static SequentialBlock trunk(ModelArchitecture architecture) {
        SequentialBlock trunk = new SequentialBlock()
                .add(new LambdaBlock(CifarResNet::normalize, "normalize"))
                .add(Conv2d.builder()
                        .setKernelShape(new Shape(3, 3))
                        .setFilters(architecture.width())
                        .optPadding(new Shape(1, 1))
                        .optBias(false)
                        .build())
                .add(BatchNorm.builder().optEpsilon(BATCH_NORM_EPSILON).optMomentum(BATCH_NORM_MOMENTUM).build())
                .add(Activation.reluBlock());
        for (int stage = 0; stage < 3; stage++) {
            int filters = architecture.width() << stage;
            for (int unit = 0; unit < architecture.unitsPerStage(); unit++) {
                boolean first = unit == 0;
                int stride = first && stage > 0 ? 2 : 1;
                boolean sameShape = !first || stage == 0;
                trunk.add(ResNetV1.residualUnit(
                        filters, new Shape(stride, stride), sameShape, false, BATCH_NORM_MOMENTUM));
            }
        }
        return trunk.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
    }

    private static NDList normalize(NDList inputs) {
        NDArray x = inputs.singletonOrThrow();
        NDArray mean = x.getManager().create(MEAN, new Shape(1, 3, 1, 1)).toDevice(x.getDevice(), false);
        NDArray std = x.getManager().create(STD, new Shape(1, 3, 1, 1)).toDevice(x.getDevice(), false);
        return new NDList(x.sub(mean).div(std));
    }
}
