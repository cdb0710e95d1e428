package io.imsrc.train.dataset;

/**
 * Which images are held out when no held-out source is given: a seeded hash of the image id below
 * the fraction. The id is a hash of the image's bytes, so the same image lands on the same side
 * in every run with the same seed, whichever source or order it came from. Pure.
 */
public final class HeldOutSplit {

    private HeldOutSplit() {}

    public static boolean isHeldOut(long imageId, long seed, double fraction) {
        long h = LabelledImages.mix(imageId ^ LabelledImages.mix(seed + 0x9E3779B97F4A7C15L));
        double u = (h >>> 11) * 0x1.0p-53;
        return u < fraction;
    }
}
