package io.imsrc.train.loop;

/**
 * The learning rate at every optimiser step: a linear warm-up from 0 to the peak, then a cosine
 * decay to 0 at the last step (Loshchilov and Hutter's SGDR without restarts; with the warm-up, the
 * shape of a one-cycle schedule). A function of the step alone, so a resumed run continues on the
 * same curve. Pure.
 *
 * @param peak the rate at the end of the warm-up
 * @param warmupSteps steps of the warm-up
 * @param totalSteps steps of the whole run
 */
public record LearningRateSchedule(float peak, long warmupSteps, long totalSteps) {

    public LearningRateSchedule {
        if (totalSteps < 1 || warmupSteps < 0 || warmupSteps >= totalSteps) {
            throw new IllegalArgumentException("need 0 <= warm-up steps < total steps, got " + warmupSteps + " of "
                    + totalSteps);
        }
    }

    /** The rate for step {@code step} (0-based). */
    public float at(long step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return (float) (peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress))));
    }
}
