package io.imsrc.launcher.console;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.train.ModelTraining;
import io.imsrc.train.TrainingMetrics;
import io.imsrc.train.loop.EpochStats;
import io.imsrc.train.loop.TrainingProgress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What {@code imsrc train} prints: a progress line every 10 seconds, one line per epoch, and the
 * model it wrote with its held-out figures and how to use it.
 */
public final class TrainingConsole implements TrainingProgress {

    private static final long REPORT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Console console;
    private long lastReport = System.nanoTime();

    public TrainingConsole(Console console) {
        this.console = console;
    }

    @Override
    public void batch(int epoch, int batch, int batches, double loss, double accuracy, double imagesPerSecond,
            double secondsLeft) {
        long now = System.nanoTime();
        if (now - lastReport < REPORT_INTERVAL_NANOS) {
            return;
        }
        lastReport = now;
        console.say("epoch %d, batch %d/%d: loss %.4f, accuracy %.4f, %.0f images/s, %s left", epoch, batch, batches,
                loss, accuracy, imagesPerSecond, duration(secondsLeft));
    }

    @Override
    public void epoch(EpochStats s, int epochs) {
        console.say("epoch %d/%d done in %s: loss %.4f, accuracy %.4f, held-out accuracy %.4f, learning rate %.4f, "
                + "%.0f images/s; checkpoint written", s.epoch(), epochs, duration(s.seconds()), s.loss(), s.accuracy(),
                s.heldOutAccuracy(), s.learningRate(), s.imagesPerSecond());
    }

    @Override
    public void note(String message) {
        console.say(message);
    }

    /** The run of {@code name} was stopped (Ctrl-C) with its checkpoint written. */
    public void stopped(String name) {
        console.say("stopped; `imsrc train --name " + name + " --resume` continues");
    }

    /** The model a finished run of {@code name} wrote, its held-out figures, and how to use it. */
    public void trained(String name, ModelTraining.Result result) {
        TrainingMetrics m = result.metrics();
        console.say("%s (model id %s, %,d bytes) in %s", result.description(), m.modelId(), m.parametersBytes(),
                result.folder());
        console.detail(String.format(Locale.ROOT, "  held-out: classifier accuracy %.4f, precision@10 %.4f (prototypes, "
                + "top 3: %.4f) over %,d queries; trained %s at %.0f images/s", m.heldOutAccuracy(), m.precisionAt10(),
                m.precisionAt10Prototypes(), m.heldOutImages(), duration(m.trainingSeconds()), m.imagesPerSecond()));
        // A built-in name keeps naming the built-in model: this one is then named by its file.
        String use = ModelDescription.isBuiltIn(name) ? result.description().toString() : name;
        console.detail("  use it: MODEL_NAME=" + use + " bin/imsrc   (the vectors of a new model are computed anew: "
                + "ingest again)");
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min " + s % 60 + " s";
        }
        return s / 3600 + " h " + s % 3600 / 60 + " min";
    }
}
