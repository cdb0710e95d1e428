package io.imsrc.train.loop;

/**
 * What a training run reports while it works; called from the training thread. Each method
 * reports nothing unless overridden.
 */
public interface TrainingProgress {

    /**
     * After a batch.
     *
     * @param epoch 1-based
     * @param batch 1-based within the epoch
     * @param batches batches per epoch
     * @param loss the mean loss of the epoch's batches so far
     * @param accuracy the training accuracy of the epoch so far
     * @param imagesPerSecond training images per second since this process started training
     * @param secondsLeft the estimated time to the end of the last epoch
     */
    default void batch(int epoch, int batch, int batches, double loss, double accuracy, double imagesPerSecond,
            double secondsLeft) {}

    /** After an epoch and its checkpoint. */
    default void epoch(EpochStats stats, int epochs) {}

    /** A line for the person watching (resumed from, checkpoint written on stop, ...). */
    default void note(String message) {}

    /** Reports nothing. */
    TrainingProgress SILENT = new TrainingProgress() {};
}
