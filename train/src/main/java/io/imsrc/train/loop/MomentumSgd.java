package io.imsrc.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.optimizer.Optimizer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SGD with Nesterov momentum and decoupled control of weight decay, whose state can be saved and
 * restored, so that {@code --resume} continues exactly where a run stopped. DJL's own {@code Sgd}
 * keeps its momentum private (a resumed run would restart it from zero) and decays every
 * parameter; here weight decay applies only to the parameters named at construction (the
 * convolution weights, not batch norm's scale and shift or the classifier's directions).
 *
 * <p>The update is PyTorch's {@code SGD(nesterov=True)}: {@code g = grad + wd w; v = mu v + g;
 * w -= lr (g + mu v)}. It runs outside autograd (the trainer steps after the gradient collector
 * closes) and zeroes each gradient afterwards: DJL's PyTorch engine accumulates gradients across
 * backward passes and leaves zeroing to the optimiser.
 *
 * <p>Not thread-safe: one trainer thread steps it. Owns its momentum arrays: {@link #close()}
 * frees them.
 */
public final class MomentumSgd extends Optimizer implements AutoCloseable {

    private final float momentum;
    private final float weightDecay;
    private final Set<String> decayed;
    private final Map<String, NDArray> velocity = new ConcurrentHashMap<>();
    private float learningRate;

    /**
     * @param decayed the ids of the parameters weight decay applies to
     */
    public MomentumSgd(float momentum, float weightDecay, Set<String> decayed) {
        super(new Builder());
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.decayed = Set.copyOf(decayed);
    }

    /** The rate the next {@link #update}s use; the training loop sets it before every step. */
    public void setLearningRate(float rate) {
        this.learningRate = rate;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        NDArray v = velocity.computeIfAbsent(parameterId, id -> {
            NDArray zeros = weight.zerosLike();
            zeros.detach(); // owned here, not by the parameter's manager
            return zeros;
        });
        boolean decay = weightDecay != 0 && decayed.contains(parameterId);
        try (NDManager scope = weight.getManager().newSubManager()) {
            NDArray g;
            if (decay) {
                NDArray penalty = weight.mul(weightDecay);
                penalty.attach(scope);
                g = grad.add(penalty);
            } else {
                g = grad.duplicate();
            }
            g.attach(scope);
            v.muli(momentum).addi(g);
            NDArray step = v.mul(momentum).addi(g).muli(learningRate);
            step.attach(scope);
            weight.subi(step);
        }
        JniUtils.zeroGrad((PtNDArray) weight);
    }

    /**
     * The momentum of each parameter in {@code parameterIds}' order, zeros where a parameter has
     * none yet; for a checkpoint. The arrays are copies owned by {@code manager}.
     */
    public NDList saveState(List<String> parameterIds, Map<String, NDArray> parameters, NDManager manager) {
        NDList state = new NDList();
        for (String id : parameterIds) {
            NDArray v = velocity.get(id);
            NDArray copy = v != null ? v.duplicate() : parameters.get(id).zerosLike();
            copy.attach(manager);
            state.add(copy);
        }
        return state;
    }

    /** Restores what {@link #saveState} saved, for parameters in the same order. */
    public void restoreState(List<String> parameterIds, NDList state) {
        if (state.size() != parameterIds.size()) {
            throw new IllegalArgumentException("the optimiser state holds " + state.size() + " arrays, the network has "
                    + parameterIds.size() + " parameters");
        }
        for (int i = 0; i < parameterIds.size(); i++) {
            NDArray v = state.get(i).duplicate();
            v.detach();
            NDArray old = velocity.put(parameterIds.get(i), v);
            if (old != null) {
                old.close();
            }
        }
    }

    @Override
    public void close() {
        velocity.values().forEach(NDArray::close);
        velocity.clear();
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
