package io.imsrc.common.embed;

import java.util.ArrayList;
import java.util.List;

/** The arithmetic after the forward pass, as pure functions over plain arrays. */
public final class EmbeddingMath {

    private EmbeddingMath() {}

    /**
     * Returns {@code vector / ||vector||}. A zero vector stays zero rather than becoming NaN, so
     * one blank image cannot poison an index or a prototype.
     */
    public static float[] l2Normalize(float[] vector) {
        double sum = 0;
        for (float v : vector) {
            sum += (double) v * v;
        }
        float[] out = new float[vector.length];
        if (sum == 0) {
            return out;
        }
        float scale = (float) (1.0 / Math.sqrt(sum));
        for (int i = 0; i < vector.length; i++) {
            out[i] = vector[i] * scale;
        }
        return out;
    }

    /** The cosine similarity of two vectors of equal length. */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vectors differ in length: " + a.length + " vs " + b.length);
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    /** The index of the largest logit in row {@code row} of a row-major matrix. */
    static int argMax(float[] logits, int row, int classes) {
        int base = row * classes;
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (logits[base + c] > logits[base + best]) {
                best = c;
            }
        }
        return best;
    }

    /** The softmax probability of class {@code index} in row {@code row}, computed stably. */
    static float softmaxAt(float[] logits, int row, int classes, int index) {
        int base = row * classes;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, logits[base + c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            sum += Math.exp(logits[base + c] - max);
        }
        return (float) (Math.exp(logits[base + index] - max) / sum);
    }

    /**
     * The first {@code count} rows of the model's outputs as embeddings.
     *
     * @param embeddings row-major N x {@code dimension} raw embeddings (N >= count; rows past count
     *     are padding)
     * @param logits row-major N x {@code labels.size()} logits, or {@code null} without a classifier
     */
    static List<Embedding> toEmbeddings(
            float[] embeddings, int dimension, float[] logits, List<String> labels, int count) {
        List<Embedding> out = new ArrayList<>(count);
        int classes = labels.size();
        for (int i = 0; i < count; i++) {
            float[] raw = new float[dimension];
            System.arraycopy(embeddings, i * dimension, raw, 0, dimension);
            float[] vector = l2Normalize(raw);
            if (logits == null) {
                out.add(Embedding.withoutPrediction(vector));
            } else {
                int best = argMax(logits, i, classes);
                out.add(new Embedding(vector, labels.get(best), softmaxAt(logits, i, classes, best)));
            }
        }
        return out;
    }
}
