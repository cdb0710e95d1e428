package io.imsrc.train.loop;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.imsrc.train.TrainOptions;
import java.util.List;

/**
 * Where a run stands, written beside its parameter and optimiser files after every epoch and when
 * the run is stopped; {@code state.json} in the checkpoint folder.
 *
 * @param options the run's settings: a resumed run takes these, not the command line's
 * @param fingerprint of the training images (ids and labels): a resumed run must see the same
 * @param epoch the epoch to continue in (0-based); equal to the epochs when training is done
 * @param batch the batch to continue with within that epoch (0-based)
 * @param step optimiser steps taken
 * @param trainingSeconds training time so far, over every process of the run
 * @param parameters the parameters file, in the checkpoint folder
 * @param optimizer the optimiser state file, in the checkpoint folder
 * @param history the finished epochs
 * @param epochLoss the summed batch losses of the unfinished epoch so far
 * @param epochCorrect the training images classified right in the unfinished epoch so far
 */
public record CheckpointState(
        TrainOptions options,
        long fingerprint,
        int epoch,
        int batch,
        long step,
        double trainingSeconds,
        String parameters,
        String optimizer,
        List<EpochStats> history,
        double epochLoss,
        long epochCorrect) {

    public CheckpointState {
        history = List.copyOf(history);
    }

    /** Whether every epoch is done. */
    @JsonIgnore
    public boolean finished() {
        return epoch >= options.epochs();
    }
}
