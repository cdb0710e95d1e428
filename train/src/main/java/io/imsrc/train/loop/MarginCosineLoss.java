package io.imsrc.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * CosFace's large-margin cosine loss (Wang et al. 2018): a softmax cross-entropy over the network's
 * scaled cosine logits ({@code scale x cos}), with the true class's logit lowered by {@code scale x
 * margin}. Each image must then be closer in angle to its class than to any other by the margin,
 * which makes the classes compact and apart on the sphere: what cosine search needs. With margin 0
 * it is the normalised softmax (NormFace).
 *
 * <p>Expects the network's outputs (embedding, logits) and one label per image (int or long).
 */
public final class MarginCosineLoss extends Loss {

    private final float scale;
    private final float margin;

    public MarginCosineLoss(float scale, float margin) {
        super("MarginCosineLoss");
        this.scale = scale;
        this.margin = margin;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray logits = predictions.get(1);
        NDArray oneHot = labels.singletonOrThrow().oneHot((int) logits.getShape().get(1));
        NDArray adjusted = margin == 0 ? logits : logits.sub(oneHot.mul(scale * margin));
        return adjusted.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mean();
    }
}
