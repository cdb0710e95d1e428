package io.imsrc.query;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * One of the 162 distinct variants of a 32x32 CIFAR image that {@link CifarLibrary} stores: CIFAR's
 * standard training augmentation, the image padded with 4 black pixels on every side, a 32x32 crop
 * at offset ({@code dx}, {@code dy}) in 0..8 of the padded 40x40, then, if {@code flip}, mirrored
 * left to right. Offset (4, 4) without a flip is the image itself.
 *
 * <p>{@link #ORDER} is the order the library uses them in: the original, its mirror image, then the
 * other 160 in a fixed shuffled order, so the first few variants of every image are already spread
 * over the offsets. Pure functions, thread-safe.
 */
record CifarVariant(int dx, int dy, boolean flip) {

    static final int SIDE = 32;
    static final int PAD = 4;

    static final CifarVariant ORIGINAL = new CifarVariant(PAD, PAD, false);

    static final List<CifarVariant> ORDER = order();

    CifarVariant {
        if (dx < 0 || dx > 2 * PAD || dy < 0 || dy > 2 * PAD) {
            throw new IllegalArgumentException("the crop offset must lie in 0.." + 2 * PAD + ", got " + dx + "," + dy);
        }
    }

    boolean isOriginal() {
        return equals(ORIGINAL);
    }

    /** How its stored name tells it apart: {@code crop-DX-DY} and {@code -flip}. */
    String tag() {
        return "crop-" + dx + "-" + dy + (flip ? "-flip" : "");
    }

    /**
     * The variant of a 32x32 image given as interleaved RGB bytes (HWC, as {@code DecodedImage}
     * holds them); pixels the crop takes from the padding are black.
     */
    byte[] apply(byte[] rgb) {
        if (rgb.length != 3 * SIDE * SIDE) {
            throw new IllegalArgumentException("expected a 32x32 RGB image, got " + rgb.length + " bytes");
        }
        byte[] out = new byte[rgb.length];
        for (int y = 0; y < SIDE; y++) {
            int sy = y + dy - PAD;
            if (sy < 0 || sy >= SIDE) {
                continue;
            }
            for (int x = 0; x < SIDE; x++) {
                int sx = (flip ? SIDE - 1 - x : x) + dx - PAD;
                if (sx >= 0 && sx < SIDE) {
                    System.arraycopy(rgb, 3 * (sy * SIDE + sx), out, 3 * (y * SIDE + x), 3);
                }
            }
        }
        return out;
    }

    private static List<CifarVariant> order() {
        List<CifarVariant> others = new ArrayList<>();
        for (int dy = 0; dy <= 2 * PAD; dy++) {
            for (int dx = 0; dx <= 2 * PAD; dx++) {
                for (boolean flip : new boolean[] {false, true}) {
                    CifarVariant v = new CifarVariant(dx, dy, flip);
                    if (dx != PAD || dy != PAD) {
                        others.add(v);
                    }
                }
            }
        }
        Collections.shuffle(others, new Random(16));
        List<CifarVariant> order = new ArrayList<>();
        order.add(ORIGINAL);
        order.add(new CifarVariant(PAD, PAD, true));
        order.addAll(others);
        return List.copyOf(order);
    }
}
