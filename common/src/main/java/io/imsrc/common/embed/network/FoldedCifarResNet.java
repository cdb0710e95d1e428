package io.imsrc.common.embed.network;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.imsrc.common.embed.ModelArchitecture;
import java.util.ArrayList;
import java.util.List;

/**
 * The inference form of a trained {@link CosineEmbeddingNetwork} over a {@link CifarResNet}: every
 * batch norm folded into the convolution before it ({@code W' = W gamma / sqrt(var + eps)}, {@code
 * b' = beta - mean gamma / sqrt(var + eps)}) and the classifier's normalised, scaled class
 * directions precomputed, so a forward pass is about 55 PyTorch calls instead of about 90. Through DJL every
 * call crosses JNI and makes a Java array, and batch norm in inference is a pass over the
 * activations of its own: folding made the embedder faster than the TorchScript ResNet-20
 * (docs/benchmarks.md, "The shipped model against the TorchScript ResNet-20"). The outputs are the
 * trained network's to float rounding (within 1e-4; tested).
 *
 * <p>Inference only: a training forward pass is refused. Holds no parameters; its arrays belong to
 * the manager given to {@link #fold} (the model's), which frees them. Thread-safe: forward passes
 * only read the arrays.
 */
public final class FoldedCifarResNet extends AbstractBlock {

    private static final byte VERSION = 1;
    private static final double NORM_EPSILON = 1e-12;
    private static final Shape ONE = new Shape(1, 1);

    /** A convolution with its batch norm folded in. */
    private record Conv(NDArray weight, NDArray bias, Shape stride, Shape padding) {
        NDArray apply(NDArray x) {
            return Conv2d.conv2d(x, weight, bias, stride, padding, ONE).singletonOrThrow();
        }
    }

    /** A residual unit: relu(conv2(relu(conv1(x))) + shortcut(x)). */
    private record Unit(Conv first, Conv second, Conv projection) {}

    private final NDArray mean;
    private final NDArray std;
    private final Conv stem;
    private final List<Unit> units;
    private final NDArray classDirections; // D x classes: the unit class weights times the scale, transposed

    private FoldedCifarResNet(NDArray mean, NDArray std, Conv stem, List<Unit> units, NDArray classDirections) {
        super(VERSION);
        this.mean = mean;
        this.std = std;
        this.stem = stem;
        this.units = List.copyOf(units);
        this.classDirections = classDirections;
    }

    /**
     * Folds a trained network whose parameters are loaded.
     *
     * @param manager owns the folded arrays (the model's manager)
     * @throws IllegalArgumentException when the network is not the CIFAR ResNet of {@code architecture}
     */
    public static FoldedCifarResNet fold(CosineEmbeddingNetwork network, ModelArchitecture architecture,
            NDManager manager) {
        List<Block> trunk = network.trunk().getChildren().values();
        int expected = 4 + 3 * architecture.unitsPerStage() + 2;
        if (trunk.size() != expected) {
            throw new IllegalArgumentException("the trunk has " + trunk.size() + " blocks, a " + architecture
                    + " has " + expected);
        }
        Conv stem = fold(trunk.get(1), trunk.get(2), ONE, ONE, manager);
        List<Unit> units = new ArrayList<>();
        for (int stage = 0, b = 4; stage < 3; stage++) {
            for (int unit = 0; unit < architecture.unitsPerStage(); unit++, b++) {
                Shape stride = unit == 0 && stage > 0 ? new Shape(2, 2) : ONE;
                List<Block> branches = cast(trunk.get(b), ParallelBlock.class).getChildren().values();
                List<Block> main = branches.get(0).getChildren().values();
                List<Block> shortcut = branches.get(1).getChildren().values();
                Conv projection = shortcut.size() == 2
                        ? fold(shortcut.get(0), shortcut.get(1), stride, new Shape(0, 0), manager) : null;
                units.add(new Unit(fold(main.get(0), main.get(1), stride, ONE, manager),
                        fold(main.get(3), main.get(4), ONE, ONE, manager), projection));
            }
        }
        NDArray directions;
        try (NDManager scope = manager.newSubManager()) {
            directions = copy(network.classWeights(), scope).normalize(2, 1, NORM_EPSILON).mul(network.scale())
                    .transpose();
            directions.attach(manager);
        }
        NDArray mean = manager.create(CifarResNet.MEAN, new Shape(1, 3, 1, 1)); // on the manager's device
        NDArray std = manager.create(CifarResNet.STD, new Shape(1, 3, 1, 1));
        return new FoldedCifarResNet(mean, std, stem, units, directions);
    }

    private static Conv fold(Block convolution, Block norm, Shape stride, Shape padding, NDManager manager) {
        BatchNorm bn = cast(norm, BatchNorm.class);
        try (NDManager scope = manager.newSubManager()) {
            // Copies in the scope, so that every intermediate below belongs to it and goes with it.
            NDArray w = copy(cast(convolution, Conv2d.class).getDirectParameters().get("weight"), scope);
            NDArray gamma = copy(bn.getDirectParameters().get("gamma"), scope);
            NDArray beta = copy(bn.getDirectParameters().get("beta"), scope);
            NDArray runningMean = copy(bn.getDirectParameters().get("runningMean"), scope);
            NDArray runningVar = copy(bn.getDirectParameters().get("runningVar"), scope);
            NDArray scale = gamma.div(runningVar.add(CifarResNet.BATCH_NORM_EPSILON).sqrt());
            NDArray weight = w.mul(scale.reshape(-1, 1, 1, 1));
            NDArray bias = beta.sub(runningMean.mul(scale));
            weight.attach(manager);
            bias.attach(manager);
            return new Conv(weight, bias, stride, padding);
        }
    }

    private static NDArray copy(Parameter parameter, NDManager scope) {
        NDArray copy = parameter.getArray().duplicate();
        copy.attach(scope);
        return copy;
    }

    private static <T extends Block> T cast(Block block, Class<T> type) {
        if (!type.isInstance(block)) {
            throw new IllegalArgumentException("expected a " + type.getSimpleName() + " in the CIFAR ResNet, found "
                    + block.getClass().getSimpleName());
        }
        return type.cast(block);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        if (training) {
            throw new UnsupportedOperationException("a folded network is for inference; train the network itself");
        }
        // Every intermediate is closed as soon as the next step has used it, as TorchScript's
        // executor frees its values: the activations of one layer stay in the caches instead of
        // those of all 55 steps piling up until the caller closes its manager.
        NDArray x = inputs.singletonOrThrow();
        NDArray normalized = x.sub(mean).divi(std);
        NDArray h = relu(then(normalized, stem.apply(normalized)));
        for (Unit unit : units) {
            NDArray activated = relu(unit.first().apply(h));
            NDArray y = then(activated, unit.second().apply(activated));
            if (unit.projection() == null) {
                y.addi(h);
            } else {
                NDArray projected = unit.projection().apply(h);
                y.addi(projected);
                projected.close();
            }
            h.close();
            h = relu(y);
        }
        NDArray pooled = then(h, Pool.globalAvgPool2d(h));
        NDArray flat = then(pooled, pooled.reshape(pooled.getShape().get(0), -1));
        NDArray embedding = then(flat, flat.normalize(2, 1, NORM_EPSILON));
        return new NDList(embedding, embedding.matMul(classDirections));
    }

    /** {@code result}, once {@code used} is closed: it was the input of the step that made {@code result}. */
    private static NDArray then(NDArray used, NDArray result) {
        if (used != result) {
            used.close();
        }
        return result;
    }

    /** ReLU into a new array, closing its input. */
    private static NDArray relu(NDArray x) {
        return then(x, Activation.relu(x));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        long n = inputShapes[0].get(0);
        return new Shape[] {new Shape(n, classDirections.getShape().get(0)), new Shape(n, classDirections.getShape().get(1))};
    }
}
