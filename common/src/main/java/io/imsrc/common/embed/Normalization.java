package io.imsrc.common.embed;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The per-channel normalisation {@code (x - mean) / std} a model expects on [0, 1] RGB input, or
 * none when the model normalises inside itself (the shared CIFAR ResNets do).
 *
 * <p>In JSON: {@code {"insideModel": true}} or {@code {"mean": [r, g, b], "std": [r, g, b]}}.
 */
public final class Normalization implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The model normalises its input itself; preprocessing stops at [0, 1]. */
    public static final Normalization INSIDE_MODEL = new Normalization(null, null);

    /** ImageNet's channel means and standard deviations, as torchvision's models expect. */
    public static final Normalization IMAGENET = of(
            new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

    private final float[] mean;
    private final float[] std;

    private Normalization(float[] mean, float[] std) {
        this.mean = mean;
        this.std = std;
    }

    /** Normalisation applied before the model, one mean and one standard deviation per channel. */
    public static Normalization of(float[] mean, float[] std) {
        if (mean == null || std == null || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("normalization needs three means and three standard deviations (R, G, B)");
        }
        for (float s : std) {
            if (!(s > 0f) || Float.isInfinite(s)) {
                throw new IllegalArgumentException("normalization std must be positive and finite, got " + Arrays.toString(std));
            }
        }
        return new Normalization(mean.clone(), std.clone());
    }

    @JsonCreator
    static Normalization fromJson(
            @JsonProperty("insideModel") Boolean insideModel,
            @JsonProperty("mean") float[] mean,
            @JsonProperty("std") float[] std) {
        boolean inside = Boolean.TRUE.equals(insideModel);
        if (inside && mean == null && std == null) {
            return INSIDE_MODEL;
        }
        if (inside) {
            throw new IllegalArgumentException("normalization: give either insideModel: true or mean and std, not both");
        }
        return of(mean, std);
    }

    @JsonValue
    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        if (isInsideModel()) {
            json.put("insideModel", true);
        } else {
            json.put("mean", mean.clone());
            json.put("std", std.clone());
        }
        return json;
    }

    public boolean isInsideModel() {
        return mean == null;
    }

    /**
     * Normalises a CHW image in place and returns it; does nothing when the model normalises
     * itself.
     */
    public float[] applyInPlace(float[] chw) {
        if (isInsideModel()) {
            return chw;
        }
        int plane = chw.length / 3;
        for (int c = 0; c < 3; c++) {
            float m = mean[c];
            float inverse = 1f / std[c];
            for (int i = c * plane, end = i + plane; i < end; i++) {
                chw[i] = (chw[i] - m) * inverse;
            }
        }
        return chw;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Normalization
                && Arrays.equals(mean, ((Normalization) other).mean)
                && Arrays.equals(std, ((Normalization) other).std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return isInsideModel() ? "inside the model" : "mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std);
    }
}
