package io.imsrc.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The update against PyTorch's SGD(momentum, nesterov=True, weight_decay) written out by hand. */
class MomentumSgdTest {

    private static final float LR = 0.5f;
    private static final float MU = 0.9f;
    private static final float WD = 0.1f;

    /** PyTorch: g = grad + wd w; v = mu v + g; w -= lr (g + mu v). */
    private static void reference(float[] w, float[] v, float[] grad, boolean decay) {
        for (int i = 0; i < w.length; i++) {
            float g = grad[i] + (decay ? WD * w[i] : 0f);
            v[i] = MU * v[i] + g;
            w[i] -= LR * (g + MU * v[i]);
        }
    }

    @Test
    void two_steps_match_nesterov_sgd_with_decay_only_where_asked_and_the_state_round_trips() {
        float[][] grads = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.05f}};
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                MomentumSgd sgd = new MomentumSgd(MU, WD, Set.of("conv"));
                MomentumSgd restored = new MomentumSgd(MU, WD, Set.of("conv"))) {
            NDArray conv = manager.create(new float[] {1f, 2f, 3f});
            NDArray gamma = manager.create(new float[] {1f, 1f, 1f});
            float[] convRef = {1f, 2f, 3f};
            float[] gammaRef = {1f, 1f, 1f};
            float[] convV = new float[3];
            float[] gammaV = new float[3];
            sgd.setLearningRate(LR);
            sgd.update("conv", conv, manager.create(grads[0]));
            sgd.update("gamma", gamma, manager.create(grads[0]));
            reference(convRef, convV, grads[0], true);
            reference(gammaRef, gammaV, grads[0], false);

            // A second optimiser takes over the first one's state, as --resume does.
            NDList state = sgd.saveState(List.of("conv", "gamma"), Map.of("conv", conv, "gamma", gamma), manager);
            restored.restoreState(List.of("conv", "gamma"), state);
            restored.setLearningRate(LR);
            NDArray convCopy = conv.duplicate();
            restored.update("conv", convCopy, manager.create(grads[1]));
            sgd.update("conv", conv, manager.create(grads[1]));
            sgd.update("gamma", gamma, manager.create(grads[1]));
            reference(convRef, convV, grads[1], true);
            reference(gammaRef, gammaV, grads[1], false);

            assertClose(conv.toFloatArray(), convRef);
            assertClose(gamma.toFloatArray(), gammaRef);
            assertThat(convCopy.toFloatArray()).containsExactly(conv.toFloatArray());
        }
    }

    private static void assertClose(float[] actual, float[] expected) {
        assertThat(actual).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).isCloseTo(expected[i], within(1e-6f));
        }
    }
}
