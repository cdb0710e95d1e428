package io.imsrc.train;

import io.imsrc.train.loop.EpochStats;
import java.util.List;
import java.util.Map;

/**
 * What {@code imsrc train} measured, written as {@code <name>.metrics.json} beside the model: the
 * data, the settings, the time, and the held-out figures computed with the saved model through the
 * embedder, as the query server would.
 *
 * @param name the model's name
 * @param modelId the model id its vectors are stored under
 * @param parametersBytes the size of the parameters file
 * @param trainImages training images
 * @param heldOutImages held-out images (the queries of the retrieval figures)
 * @param classes the categories, in logit order
 * @param imagesPerClass training images per category
 * @param options every setting of the run
 * @param trainingSeconds training time over every process of the run, with the held-out check and
 *     the checkpoint after each epoch (not reading the data or the final evaluation)
 * @param imagesPerSecond training throughput: images x epochs / training time
 * @param heldOutAccuracy the classifier's accuracy on the held-out images
 * @param precisionAt10 precision@10 of the held-out images against the training images, exact
 *     cosine search over every image
 * @param precisionAt10Prototypes the same in two stages: the 3 best categories by prototype, then
 *     their images
 * @param prototypeTop1 the share of held-out images whose category ranks first by prototype
 * @param epochs every epoch's loss, accuracies and time
 * @param environment where it ran: cores, operating system, Java, DJL and PyTorch versions
 * @param finishedAt when the model was written (ISO-8601)
 */
public record TrainingMetrics(
        String name,
        String modelId,
        long parametersBytes,
        int trainImages,
        int heldOutImages,
        List<String> classes,
        Map<String, Integer> imagesPerClass,
        TrainOptions options,
        double trainingSeconds,
        double imagesPerSecond,
        double heldOutAccuracy,
        double precisionAt10,
        double precisionAt10Prototypes,
        double prototypeTop1,
        List<EpochStats> epochs,
        Map<String, String> environment,
        String finishedAt) {}
