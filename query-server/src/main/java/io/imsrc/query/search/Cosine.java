package io.imsrc.query.search;

/** Similarities as the API reports them: cosines of unit vectors, which the API promises in [-1, 1]. */
public final class Cosine {

    private Cosine() {}

    /** Float rounding can put the cosine of identical unit vectors a hair above 1; this puts it back. */
    public static double clamp(double cosine) {
        return Math.max(-1.0, Math.min(1.0, cosine));
    }
}
