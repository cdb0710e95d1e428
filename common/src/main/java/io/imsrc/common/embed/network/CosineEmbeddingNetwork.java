package io.imsrc.common.embed.network;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * An embedding trunk with a cosine classifier on top: the output is the L2-normalised embedding
 * (element 0) and {@code scale x cos(embedding, class weight)} for every class (element 1).
 *
 * <p>Trained with a softmax over those scaled cosines (optionally with an additive margin, CosFace),
 * the embeddings of one class gather around the direction of its weight vector and apart from the
 * others', which is what a cosine nearest-neighbour search and the per-category prototype ranking
 * of imsrc need; a plain linear classifier only separates classes by hyperplanes, whose images can
 * lie far apart in angle. The class weights are normalised in every forward pass, so only their
 * directions count.
 */
public final class CosineEmbeddingNetwork extends AbstractBlock {

    private static final byte VERSION = 1;
    /** Keeps the division defined for an all-zero feature vector (a blank image after ReLUs). */
    private static final double NORM_EPSILON = 1e-12;

    private final Block trunk;
    private final Parameter classWeights;
    private final int classes;
    private final float scale;

    /**
     * @param trunk maps the input to N x D features
     * @param classes the number of classes of the cosine classifier
     * @param scale multiplies the cosines into logits
     */
    public CosineEmbeddingNetwork(Block trunk, int classes, float scale) {
        super(VERSION);
        if (classes < 2) {
            throw new IllegalArgumentException("a classifier needs at least two classes, got " + classes);
        }
        this.trunk = addChildBlock("trunk", trunk);
        this.classes = classes;
        this.scale = scale;
        this.classWeights = addParameter(Parameter.builder()
                .setName("classWeights")
                .setType(Parameter.Type.WEIGHT)
                .build());
    }

    /** The block that maps images to features. */
    public Block trunk() {
        return trunk;
    }

    public int classes() {
        return classes;
    }

    public float scale() {
        return scale;
    }

    /** The class weight parameter: its directions are the classes' centres on the unit sphere. */
    public Parameter classWeights() {
        return classWeights;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray features = trunk.forward(parameterStore, inputs, training, params).singletonOrThrow();
        NDArray embedding = features.normalize(2, 1, NORM_EPSILON);
        NDArray directions = parameterStore.getValue(classWeights, features.getDevice(), training)
                .normalize(2, 1, NORM_EPSILON);
        // Made from the parameter, it would belong to the model's manager and outlive the call:
        // it goes with the caller's arrays instead (after the backward pass, in training).
        directions.attach(features.getManager());
        NDArray logits = embedding.matMul(directions.transpose()).mul(scale);
        return new NDList(embedding, logits);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape features = trunk.getOutputShapes(inputShapes)[0];
        return new Shape[] {features, new Shape(features.get(0), classes)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        trunk.initialize(manager, dataType, inputShapes);
    }

    @Override
    public void prepare(Shape[] inputShapes) {
        Shape features = trunk.getOutputShapes(inputShapes)[0];
        classWeights.setShape(new Shape(classes, features.get(1)));
    }
}
