package io.imsrc.train.loop;

import java.util.SplittableRandom;

/**
 * The standard CIFAR augmentation: a random crop of the image padded by {@code padding} black pixels
 * on every side, and a horizontal flip half of the time. Writes the result as floats in [0, 1]
 * (the network's input). Pure apart from the random source it is handed.
 */
public final class Augmentation {

    private Augmentation() {}

    /**
     * Writes image {@code chw} (3 x height x width bytes) into {@code out} at {@code offset},
     * shifted by up to {@code padding} pixels each way and mirrored at random.
     */
    public static void augment(byte[] chw, int height, int width, int padding, SplittableRandom random, float[] out,
            int offset) {
        int dy = random.nextInt(2 * padding + 1) - padding;
        int dx = random.nextInt(2 * padding + 1) - padding;
        boolean flip = random.nextBoolean();
        int area = height * width;
        for (int c = 0; c < 3; c++) {
            int plane = c * area;
            for (int y = 0; y < height; y++) {
                int sy = y + dy;
                int row = offset + plane + y * width;
                if (sy < 0 || sy >= height) {
                    java.util.Arrays.fill(out, row, row + width, 0f);
                    continue;
                }
                int sourceRow = plane + sy * width;
                for (int x = 0; x < width; x++) {
                    int sx = (flip ? width - 1 - x : x) + dx;
                    out[row + x] = sx < 0 || sx >= width ? 0f : (chw[sourceRow + sx] & 0xFF) / 255f;
                }
            }
        }
    }

    /** Writes image {@code chw} unchanged, as floats in [0, 1]. */
    public static void plain(byte[] chw, float[] out, int offset) {
        for (int i = 0; i < chw.length; i++) {
            out[offset + i] = (chw[i] & 0xFF) / 255f;
        }
    }
}
