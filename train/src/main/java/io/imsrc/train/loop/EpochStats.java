package io.imsrc.train.loop;

/**
 * One finished epoch.
 *
 * @param epoch 1-based
 * @param loss the mean training loss over the epoch's batches
 * @param accuracy the share of training images the classifier got right (with augmentation)
 * @param heldOutAccuracy the share of held-out images the classifier got right
 * @param learningRate the rate at the epoch's last step
 * @param seconds the epoch's training time (without the held-out check)
 * @param imagesPerSecond training images per second in the epoch
 */
public record EpochStats(
        int epoch, double loss, double accuracy, double heldOutAccuracy, double learningRate, double seconds,
        double imagesPerSecond) {}
