package io.imsrc.train.dataset;

import java.util.List;

/**
 * The images a training run learns from and the ones it is evaluated on, never the same image in
 * both (by image id).
 *
 * @param train the training images
 * @param heldOut the held-out images, labelled with the training classes
 * @param report where they came from, for the console and the metrics file
 */
public record TrainingSet(LabelledImages train, LabelledImages heldOut, Report report) {

    /**
     * How the set was put together.
     *
     * @param fromSources training images read from the sources (before the held-out split)
     * @param fromLibrary training images read from the library (before the held-out split)
     * @param heldOutFromSources images read from the held-out sources
     * @param duplicates images seen more than once (same id), kept once
     * @param unreadable images a source or the library held that could not be decoded, left out
     * @param heldOutUnknownClass held-out images of a class with no training images, left out
     * @param notes sentences worth showing (what was left out and why)
     */
    public record Report(long fromSources, long fromLibrary, long heldOutFromSources, long duplicates, long unreadable,
            long heldOutUnknownClass, List<String> notes) {
        public Report {
            notes = List.copyOf(notes);
        }
    }
}
