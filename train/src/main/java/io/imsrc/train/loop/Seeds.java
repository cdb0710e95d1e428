package io.imsrc.train.loop;

import java.util.SplittableRandom;

/**
 * The random choices of a training run, each a pure function of the run's seed and where the run
 * is: the order of the images in an epoch, and the crops and flips of a batch. A run resumed at
 * any batch therefore draws exactly what an uninterrupted one draws there.
 */
final class Seeds {

    private Seeds() {}

    /** The seed of an epoch's order of images. */
    static long epoch(long seed, int epoch) {
        return batch(seed, epoch, -1);
    }

    /** The seed of a batch's augmentation. */
    static long batch(long seed, int epoch, int batch) {
        return new SplittableRandom(seed).split().nextLong() ^ ((long) epoch << 32) ^ (batch + 1L) * 0x9E3779B97F4A7C15L;
    }

    /** A permutation of 0..n-1 (Fisher-Yates). */
    static int[] permutation(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
