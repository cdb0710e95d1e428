package io.imsrc.train.dataset;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.Normalization;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.image.InvalidImageException;
import io.imsrc.ingest.admit.ImagePreparation;
import io.imsrc.ingest.admit.RejectedImageException;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.BulkImages;
import io.imsrc.ingest.source.bulk.BulkSourceResolver;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.bulk.ResolvedBulkSource;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Gathers a {@link TrainingSet}: the labelled images of the sources and of the library, each image
 * once (by image id, the hash of its bytes that the job uses too), split into training and held-out
 * images, decoded and resized to the network's input.
 *
 * <p>Only labels count: library images whose category the model predicted are left out, as are
 * images that cannot be decoded (counted in the report). Not thread-safe; one load at a time.
 */
public final class TrainingSetLoader {

    /** Rows fetched per round trip when reading the library. */
    private static final int FETCH_SIZE = 512;

    private static final String LIBRARY_QUERY = """
            SELECT i.image_id, c.category_name, i.image_data
            FROM images i JOIN categories c ON c.category_id = i.category_id
            WHERE i.category_assignment = 'label'
            ORDER BY i.image_id""";

    /**
     * Where the data comes from.
     *
     * @param sources labelled sources for training
     * @param heldOutSources labelled sources for the held-out split (empty: {@code heldOutFraction})
     * @param heldOutFraction share held out by a seeded hash of the id, without held-out sources
     * @param seed the seed of that hash
     * @param limit at most this many images per source, 0 for all
     * @param cacheDir where URL sources are downloaded to (DATA_DIR/cache)
     * @param maxImageBytes larger files are left out (MAX_UPLOAD_SIZE)
     * @param maxImagePixels larger images are left out (MAX_IMAGE_PIXELS)
     */
    public record Inputs(List<String> sources, List<String> heldOutSources, double heldOutFraction, long seed,
            long limit, Path cacheDir, long maxImageBytes, long maxImagePixels) {
        public Inputs {
            sources = List.copyOf(sources);
            heldOutSources = List.copyOf(heldOutSources);
            Objects.requireNonNull(cacheDir, "cacheDir");
        }
    }

    private final Inputs inputs;
    private final int height;
    private final int width;
    private final ImagePreparation preparation;
    private final Set<Long> seen = new HashSet<>();
    private long duplicates;
    private long unreadable;
    private final List<String> notes = new ArrayList<>();

    /**
     * @param height the network's input height
     * @param width the network's input width
     */
    public TrainingSetLoader(Inputs inputs, int height, int width) {
        this.inputs = Objects.requireNonNull(inputs, "inputs");
        this.height = height;
        this.width = width;
        // Only to decode and resize: pixels scaled to [0, 1], no normalisation.
        ModelDescription shape = new ModelDescription("training-input", "none", width, height,
                Normalization.INSIDE_MODEL, 0, null, null, null);
        this.preparation = new ImagePreparation(shape, inputs.maxImageBytes(), inputs.maxImagePixels());
    }

    /**
     * Reads the held-out sources first (so an image in both is held out, never trained on), then the
     * training sources, then the library when {@code library} is given.
     *
     * @param library an open connection to read labelled images from, or {@code null} for none
     * @throws TrainingDataException when a source cannot be read, or the images cannot train a model
     *     (none, or all of one class) or evaluate one (nothing held out)
     */
    public TrainingSet load(Connection library) throws TrainingDataException {
        LabelledImages.Builder heldOut = new LabelledImages.Builder(height, width);
        for (String source : inputs.heldOutSources()) {
            readSource(source, heldOut, null);
        }
        long heldOutFromSources = heldOut.size();
        LabelledImages.Builder train = new LabelledImages.Builder(height, width);
        boolean split = inputs.heldOutSources().isEmpty();
        for (String source : inputs.sources()) {
            readSource(source, train, split ? heldOut : null);
        }
        long fromSources = train.size() + (split ? heldOut.size() : 0);
        long beforeLibrary = fromSources;
        if (library != null) {
            readLibrary(library, train, split ? heldOut : null);
        }
        long fromLibrary = train.size() + (split ? heldOut.size() : 0) - beforeLibrary;

        List<String> classes = train.labelNames();
        if (train.size() == 0) {
            throw new TrainingDataException("no labelled images to train on: "
                    + (library != null ? "the library has no images whose category came from a label" : "")
                    + (library != null && !inputs.sources().isEmpty() ? ", and " : "")
                    + (inputs.sources().isEmpty() ? (library == null ? "no source was given" : "")
                            : "the sources " + inputs.sources() + " hold none (outside the held-out split)"));
        }
        if (classes.size() < 2) {
            throw new TrainingDataException("all " + train.size() + " training images are of one category, '"
                    + classes.get(0) + "': a model needs labelled images of at least two categories to learn from");
        }
        LabelledImages trainImages = train.build(classes);
        LabelledImages heldOutImages = heldOut.build(classes);
        long unknown = heldOut.size() - heldOutImages.size();
        if (unknown > 0) {
            notes.add(unknown + " held-out images are of categories without training images and are left out");
        }
        if (heldOutImages.size() == 0) {
            throw new TrainingDataException("no held-out images to evaluate on: "
                    + (split ? "a held-out fraction of " + inputs.heldOutFraction() + " of "
                            + (fromSources + fromLibrary) + " images picked none; raise it or give a held-out source"
                            : "the held-out sources hold no images of the training categories " + classes));
        }
        if (duplicates > 0) {
            notes.add(duplicates + " images were seen more than once (same bytes) and are used once");
        }
        if (unreadable > 0) {
            notes.add(unreadable + " images could not be read or decoded and are left out");
        }
        return new TrainingSet(trainImages, heldOutImages, new TrainingSet.Report(fromSources, fromLibrary,
                heldOutFromSources, duplicates, unreadable, unknown, notes));
    }

    private void readSource(String text, LabelledImages.Builder into, LabelledImages.Builder heldOut)
            throws TrainingDataException {
        BulkSourceSpec spec;
        ResolvedBulkSource source;
        try {
            spec = BulkSourceSpec.parse(text);
            if (inputs.limit() > 0) {
                spec = spec.withLimit(inputs.limit());
            }
            source = BulkSourceResolver.resolve(spec, inputs.cacheDir(), inputs.maxImageBytes());
        } catch (IOException | RuntimeException e) {
            throw new TrainingDataException("cannot read the source " + text + ": " + message(e), e);
        }
        try {
            BulkImages.forEach(source, raw -> add(raw, into, heldOut));
        } catch (IOException | RuntimeException e) {
            throw new TrainingDataException("cannot read the source " + text + ": " + message(e), e);
        }
    }

    private void add(RawImage raw, LabelledImages.Builder into, LabelledImages.Builder heldOut) {
        if (raw.rejection() != null || raw.label() == null) {
            unreadable++;
            return;
        }
        if (!seen.add(raw.meta().imageId())) {
            duplicates++;
            return;
        }
        AdmittedImage admitted;
        try {
            admitted = preparation.prepare(raw, raw.label());
        } catch (RejectedImageException e) {
            unreadable++;
            return;
        }
        destination(raw.meta().imageId(), into, heldOut).add(raw.meta().imageId(), raw.label(),
                quantize(admitted.modelInput()));
    }

    private void readLibrary(Connection connection, LabelledImages.Builder into, LabelledImages.Builder heldOut)
            throws TrainingDataException {
        ImageDecodeOptions decode = new ImageDecodeOptions(inputs.maxImagePixels());
        try {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false); // PostgreSQL streams with a cursor only inside a transaction
            try (PreparedStatement statement = connection.prepareStatement(LIBRARY_QUERY)) {
                statement.setFetchSize(FETCH_SIZE);
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        long id = rows.getLong(1);
                        if (!seen.add(id)) {
                            duplicates++;
                            continue;
                        }
                        DecodedImage image;
                        try {
                            image = ImageDecoder.decode(rows.getBytes(3), decode);
                        } catch (InvalidImageException e) {
                            unreadable++;
                            continue;
                        }
                        destination(id, into, heldOut).add(id, rows.getString(2),
                                quantize(io.imsrc.common.image.ImagePreprocessor.toChw(image, width, height)));
                    }
                }
            } finally {
                connection.rollback();
                connection.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new TrainingDataException("cannot read the labelled images of the library: " + e.getMessage(), e);
        }
    }

    private LabelledImages.Builder destination(long id, LabelledImages.Builder into, LabelledImages.Builder heldOut) {
        return heldOut != null && HeldOutSplit.isHeldOut(id, inputs.seed(), inputs.heldOutFraction()) ? heldOut : into;
    }

    /** [0, 1] floats back to the bytes they came from (exact for images already at the input size). */
    static byte[] quantize(float[] chw) {
        byte[] out = new byte[chw.length];
        for (int i = 0; i < chw.length; i++) {
            out[i] = (byte) Math.round(Math.max(0f, Math.min(1f, chw[i])) * 255f);
        }
        return out;
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
