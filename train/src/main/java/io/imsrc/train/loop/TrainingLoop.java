package io.imsrc.train.loop;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import io.imsrc.common.embed.network.CosineEmbeddingNetwork;
import io.imsrc.common.embed.network.Networks;
import io.imsrc.train.TrainOptions;
import io.imsrc.train.dataset.LabelledImages;
import io.imsrc.train.dataset.TrainingSet;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Trains the network of a {@link TrainOptions} on a {@link TrainingSet} with DJL's training API:
 * mini-batches of augmented images, the margin cosine loss, Nesterov SGD on a warm-up and cosine
 * schedule, and a checkpoint after every epoch and when stopped.
 *
 * <p><b>Determinism.</b> Every random choice derives from the seed: the initial weights (PyTorch's
 * generator, seeded before initialisation), each epoch's order of images (from the seed and the
 * epoch) and each batch's crops and flips (from the seed, the epoch and the batch). A run stopped at
 * any batch and resumed from its checkpoint therefore takes the same steps as one that was never
 * stopped, and two runs with the same seed and data agree (up to the floating-point order of
 * PyTorch's multi-threaded kernels).
 *
 * <p><b>Threads.</b> {@link #run} trains in the calling thread; {@link #requestStop} may be called
 * from any other (a shutdown hook): the run then writes a checkpoint after the current batch and
 * returns {@link Outcome#STOPPED}.
 *
 * <p>About 310 lines on purpose: the loop, its checkpoint and its resume share the seeded order of
 * images and batches, which is what makes a resumed run take the same steps; the augmentation,
 * the optimiser and the schedule already live in classes of their own.
 */
public final class TrainingLoop {

    /** Pixels of padding of the random crop. */
    static final int CROP_PADDING = 4;
    /** Images per forward pass when checking the held-out images. */
    private static final int EVALUATION_BATCH = 500;
    private static final String ENGINE = "PyTorch";

    /** How a run ended. */
    public enum Outcome {
        /** Every epoch is done; the checkpoint holds the trained network. */
        FINISHED,
        /** Stopped on request; the checkpoint continues the run with {@code --resume}. */
        STOPPED
    }

    /** The outcome and the checkpoint it left. */
    public record Result(Outcome outcome, CheckpointState state) {}

    private final TrainingSet data;
    private final Checkpoints checkpoints;
    private final TrainingProgress progress;
    private final Device device;
    private volatile boolean stopRequested;

    public TrainingLoop(TrainingSet data, Checkpoints checkpoints, TrainingProgress progress, Device device) {
        this.data = Objects.requireNonNull(data, "data");
        this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
        this.progress = Objects.requireNonNull(progress, "progress");
        this.device = Objects.requireNonNull(device, "device");
    }

    /** Asks a running {@link #run} to write a checkpoint after its current batch and return. */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * Trains from the start, or from {@code resumeFrom} when given.
     *
     * @param resumeFrom a checkpoint of a run with the same options and data, or {@code null}
     * @throws IOException when a checkpoint cannot be written or read
     */
    public Result run(TrainOptions options, CheckpointState resumeFrom) throws IOException {
        Engine.getEngine(ENGINE).setRandomSeed((int) options.seed()); // loads PyTorch first
        // Autograd records only inside the trainer's gradient collector; the optimiser then
        // changes the parameters in place, which PyTorch allows only with recording off. DJL
        // switches it off in the thread that started the engine only.
        JniUtils.setGradMode(false);
        if (options.threads() > 0) {
            JniUtils.setNumThreads(options.threads());
        }
        CosineEmbeddingNetwork network = Networks.build(options.architecture(), data.train().classes().size());
        try (Model model = Model.newInstance(options.name(), device, ENGINE);
                MomentumSgd optimizer = new MomentumSgd(options.momentum(), options.weightDecay(), decayed(network))) {
            model.setBlock(network);
            if (resumeFrom != null) {
                checkpoints.loadParameters(resumeFrom, network, model.getNDManager());
            }
            DefaultTrainingConfig config = new DefaultTrainingConfig(
                            new MarginCosineLoss(options.architecture().scale(), options.margin()))
                    .optOptimizer(optimizer)
                    .optDevices(new Device[] {device})
                    // He initialisation (Gaussian, variance 2 / fan-in) for every weight; parameters
                    // loaded from a checkpoint count as initialised and keep their values.
                    .optInitializer(new XavierInitializer(
                            XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.IN, 2), Parameter.Type.WEIGHT);
            try (Trainer trainer = model.newTrainer(config)) {
                Epochs epochs = new Epochs(options, trainer, optimizer);
                if (resumeFrom != null) {
                    try (NDManager scope = model.getNDManager().newSubManager()) {
                        optimizer.restoreState(epochs.parameterIds, checkpoints.loadOptimizer(resumeFrom, scope));
                    }
                }
                return epochs.run(resumeFrom);
            }
        }
    }

    /** The ids of the convolution weights, which weight decay applies to. */
    private static Set<String> decayed(CosineEmbeddingNetwork network) {
        Set<String> decayed = new HashSet<>();
        for (Pair<String, Parameter> p : network.getParameters()) {
            Parameter parameter = p.getValue();
            if (parameter.getType() == Parameter.Type.WEIGHT && parameter != network.classWeights()) {
                decayed.add(parameter.getId());
            }
        }
        return decayed;
    }

    /** One run inside {@link #run}: its trainer, optimiser, schedule and counters. */
    private final class Epochs {
        private final TrainOptions options;
        private final LabelledImages train;
        private final int batchSize;
        private final int batches;
        private final LearningRateSchedule schedule;
        private final Trainer trainer;
        private final MomentumSgd optimizer;
        private final Model model;
        /** The network's parameters in their fixed order, which the optimiser state is saved in. */
        private final List<String> parameterIds = new ArrayList<>();
        private final Map<String, NDArray> parameterArrays = new HashMap<>();
        private final long fingerprint;

        /** Initialises the trainer's network (unless loaded from a checkpoint) for the batch size. */
        Epochs(TrainOptions options, Trainer trainer, MomentumSgd optimizer) {
            this.options = options;
            this.train = data.train();
            this.batchSize = Math.min(options.batchSize(), train.size());
            this.batches = train.size() / batchSize;
            long totalSteps = (long) batches * options.epochs();
            long warmupSteps = Math.min(totalSteps - 1, Math.round(options.warmupEpochs() * batches));
            this.schedule = new LearningRateSchedule(options.learningRate(), warmupSteps, totalSteps);
            this.trainer = trainer;
            this.optimizer = optimizer;
            this.model = trainer.getModel();
            this.fingerprint = train.fingerprint();
            trainer.initialize(new Shape(batchSize, 3, train.height(), train.width()));
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                parameterIds.add(p.getValue().getId());
                parameterArrays.put(p.getValue().getId(), p.getValue().getArray());
            }
        }

        Result run(CheckpointState resumeFrom) throws IOException {
            int startEpoch = resumeFrom == null ? 0 : resumeFrom.epoch();
            int startBatch = resumeFrom == null ? 0 : resumeFrom.batch();
            long step = resumeFrom == null ? 0 : resumeFrom.step();
            double previousSeconds = resumeFrom == null ? 0 : resumeFrom.trainingSeconds();
            List<EpochStats> history = new ArrayList<>(resumeFrom == null ? List.of() : resumeFrom.history());
            double epochLoss = resumeFrom == null ? 0 : resumeFrom.epochLoss();
            long epochCorrect = resumeFrom == null ? 0 : resumeFrom.epochCorrect();
            if (resumeFrom != null) {
                progress.note("resuming at epoch " + (startEpoch + 1) + ", batch " + (startBatch + 1) + " of " + batches
                        + " (step " + step + ")");
            }
            int length = train.imageLength();
            float[] inputs = new float[batchSize * length];
            long[] labels = new long[batchSize];
            long processStart = System.nanoTime();
            long processImages = 0;
            CheckpointState state = resumeFrom;
            for (int epoch = startEpoch; epoch < options.epochs(); epoch++) {
                int[] order = Seeds.permutation(train.size(), Seeds.epoch(options.seed(), epoch));
                long epochStart = System.nanoTime();
                int firstBatch = epoch == startEpoch ? startBatch : 0;
                if (epoch != startEpoch) {
                    epochLoss = 0;
                    epochCorrect = 0;
                }
                for (int batch = firstBatch; batch < batches; batch++) {
                    SplittableRandom random = new SplittableRandom(Seeds.batch(options.seed(), epoch, batch));
                    for (int i = 0; i < batchSize; i++) {
                        int image = order[batch * batchSize + i];
                        Augmentation.augment(train.pixels(image), train.height(), train.width(), CROP_PADDING, random,
                                inputs, i * length);
                        labels[i] = train.label(image);
                    }
                    float rate = schedule.at(step);
                    double[] lossAndCorrect = step(inputs, labels, rate);
                    step++;
                    epochLoss += lossAndCorrect[0];
                    epochCorrect += (long) lossAndCorrect[1];
                    processImages += batchSize;
                    double processSeconds = (System.nanoTime() - processStart) / 1e9;
                    double rateNow = processImages / Math.max(1e-9, processSeconds);
                    long imagesLeft = (totalSteps() - step) * batchSize;
                    int done = batch + 1;
                    progress.batch(epoch + 1, done, batches, epochLoss / done,
                            (double) epochCorrect / ((long) done * batchSize), rateNow, imagesLeft / rateNow);
                    if (stopRequested && done < batches) {
                        state = save(new CheckpointState(options, fingerprint, epoch, done, step,
                                previousSeconds + processSeconds, "", "", history, epochLoss, epochCorrect));
                        progress.note("stopped: checkpoint at epoch " + (epoch + 1) + ", batch " + done + " of "
                                + batches + " in " + checkpoints.folder() + "; continue with --resume");
                        return new Result(Outcome.STOPPED, state);
                    }
                }
                double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
                int epochBatches = batches - firstBatch;
                double heldOut = heldOutAccuracy();
                EpochStats stats = new EpochStats(epoch + 1, epochLoss / batches,
                        (double) epochCorrect / ((long) batches * batchSize), heldOut, schedule.at(step - 1),
                        epochSeconds, epochBatches * (double) batchSize / Math.max(1e-9, epochSeconds));
                history.add(stats);
                double trainingSeconds = previousSeconds + (System.nanoTime() - processStart) / 1e9;
                state = save(new CheckpointState(options, fingerprint, epoch + 1, 0, step, trainingSeconds, "", "",
                        history, 0, 0));
                progress.epoch(stats, options.epochs());
                if (stopRequested && epoch + 1 < options.epochs()) {
                    progress.note("stopped after epoch " + (epoch + 1) + ": checkpoint in " + checkpoints.folder()
                            + "; continue with --resume");
                    return new Result(Outcome.STOPPED, state);
                }
            }
            if (state == null || !state.finished()) {
                throw new IllegalStateException("the last epoch ended without its checkpoint");
            }
            return new Result(Outcome.FINISHED, state);
        }

        private long totalSteps() {
            return schedule.totalSteps();
        }

        /** One optimiser step on a batch; returns its loss and how many images it classified right. */
        private double[] step(float[] inputs, long[] labels, float rate) {
            try (NDManager batch = model.getNDManager().newSubManager()) {
                NDArray x = batch.create(inputs, new Shape(labels.length, 3, train.height(), train.width()));
                NDArray y = batch.create(labels);
                double loss;
                long correct;
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDList outputs = trainer.forward(new NDList(x));
                    NDArray lossArray = trainer.getLoss().evaluate(new NDList(y), outputs);
                    collector.backward(lossArray);
                    loss = lossArray.getFloat();
                    correct = outputs.get(1).argMax(1).eq(y).sum().getLong();
                }
                optimizer.setLearningRate(rate);
                trainer.step();
                return new double[] {loss, correct};
            }
        }

        /** The share of held-out images the classifier gets right, in inference mode. */
        private double heldOutAccuracy() {
            LabelledImages heldOut = data.heldOut();
            JniUtils.setGradMode(false);
            int length = heldOut.imageLength();
            long correct = 0;
            try (Predictor<NDList, NDList> predictor = model.newPredictor(new NoopTranslator())) {
                for (int from = 0; from < heldOut.size(); from += EVALUATION_BATCH) {
                    int n = Math.min(EVALUATION_BATCH, heldOut.size() - from);
                    float[] inputs = new float[n * length];
                    long[] labels = new long[n];
                    for (int i = 0; i < n; i++) {
                        Augmentation.plain(heldOut.pixels(from + i), inputs, i * length);
                        labels[i] = heldOut.label(from + i);
                    }
                    try (NDManager batch = model.getNDManager().newSubManager()) {
                        NDArray x = batch.create(inputs, new Shape(n, 3, heldOut.height(), heldOut.width()));
                        NDList outputs = predictor.predict(new NDList(x));
                        outputs.attach(batch);
                        correct += outputs.get(1).argMax(1).eq(batch.create(labels)).sum().getLong();
                    }
                }
            } catch (TranslateException e) {
                throw new IllegalStateException("the held-out check failed: " + e.getMessage(), e);
            }
            return (double) correct / heldOut.size();
        }

        private CheckpointState save(CheckpointState state) throws IOException {
            try (NDManager scope = model.getNDManager().newSubManager()) {
                return checkpoints.write(state, model.getBlock(),
                        optimizer.saveState(parameterIds, parameterArrays, scope));
            }
        }
    }
}
