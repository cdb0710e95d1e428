package io.imsrc.ingest.admit;

import io.imsrc.common.record.Rejection;
import io.imsrc.ingest.admit.AdmissionBootstrap.KeyGroups;
import io.imsrc.ingest.operator.FlushingOperator;
import io.imsrc.ingest.prototype.CategorySums;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.DeadLetter;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.PrototypeDelta;
import io.imsrc.ingest.record.RawImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.CheckpointableKeyedStateBackend;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, per image id (the stream is keyed by it), whether an image goes on to the model, and
 * prepares it: the job's one place of deduplication.
 *
 * <ul>
 *   <li>An id seen before with the same hash is a duplicate: dropped, so re-ingesting a source
 *       stores and counts nothing twice; a duplicate upload is reported indexed ({@link
 *       #DUPLICATE_UPLOADS}).
 *   <li>An id seen before with another hash is a dead letter (HASH_COLLISION), never merged.
 *   <li>A new image is decoded and validated ({@link ImagePreparation}); a bad one is a dead letter
 *       with its reason ({@link #DEAD_LETTERS}), and the job keeps running.
 * </ul>
 *
 * <p><b>State and bootstrap.</b> Keyed state holds a {@link Seen} per id and is checkpointed with
 * the prototype state, so after a restore both agree on which images are counted. A job that
 * starts without restored state first rebuilds it from PostgreSQL: every subtask reads the stored
 * images in its key-group range ({@link AdmissionBootstrap}, selected in PostgreSQL by {@link
 * JdbcAdmissionBootstrap}) and sends the sums of their vectors
 * per category down {@link #STORED_PROTOTYPES} to the prototype operator. Both states come from
 * one read, in one place, before this subtask admits anything, so no image can be counted both by
 * the bootstrap and as new. The sums go out on the first processing-time tick, or before the
 * first record, barrier, watermark or end of input, whichever comes first ({@link
 * FlushingOperator}). The bootstrap streams its rows into state one by one; where that state lives
 * is the state backend's affair: the heap with {@code hashmap}, RocksDB's files off the heap with
 * {@code rocksdb} (FLINK_STATE_BACKEND, {@link io.imsrc.ingest.IngestJob#configure}).
 *
 * <p>Metrics: {@code admitted}, {@code duplicates}, {@code deadLetters} (and one counter per reason,
 * {@code deadLetters_<REASON>}), {@code bootstrapImages}.
 */
public final class ImageAdmissionOperator extends FlushingOperator<RawImage, AdmittedImage> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ImageAdmissionOperator.class);

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));
    public static final OutputTag<ImageMeta> DUPLICATE_UPLOADS =
            new OutputTag<>("duplicate-uploads", TypeInformation.of(ImageMeta.class));
    public static final OutputTag<PrototypeDelta> STORED_PROTOTYPES =
            new OutputTag<>("stored-prototypes", TypeInformation.of(PrototypeDelta.class));

    private final ImagePreparation preparation;
    private final AdmissionBootstrap bootstrap;

    private transient ValueState<Seen> seen;
    private transient List<PrototypeDelta> storedPrototypes;
    private transient long bootstrapImages;
    private transient Counter admitted;
    private transient Counter duplicates;
    private transient Counter deadLetters;
    private transient Map<Rejection, Counter> deadLettersByReason;

    public ImageAdmissionOperator(ImagePreparation preparation, AdmissionBootstrap bootstrap) {
        this.preparation = Objects.requireNonNull(preparation, "preparation");
        this.bootstrap = Objects.requireNonNull(bootstrap, "bootstrap");
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        seen = getPartitionedState(new ValueStateDescriptor<>("seen", TypeInformation.of(Seen.class)));
        storedPrototypes = new ArrayList<>();
        if (!context.isRestored()) {
            bootstrapFromStore();
        }
    }

    /** Loads this subtask's share of the stored images into state and sums their vectors. */
    private void bootstrapFromStore() throws Exception {
        KeyGroupRange range = ((CheckpointableKeyedStateBackend<?>) getKeyedStateBackend()).getKeyGroupRange();
        KeyGroups share = new KeyGroups(getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks(),
                range.getStartKeyGroup(), range.getEndKeyGroup());
        CategorySums<String> sums = new CategorySums<>();
        long start = System.nanoTime();
        long[] counts = {0, 0}; // read, kept
        bootstrap.forEachStoredImage(share, image -> {
            counts[0]++;
            Long id = image.imageId();
            if (!share.contains(id)) {
                return; // a bootstrap that could not select this share passes every image
            }
            setCurrentKey(id);
            if (image.vector() == null) {
                seen.update(new Seen(image.sha256(), image.category(), false));
            } else {
                seen.update(new Seen(image.sha256(), null, true));
                sums.add(image.category(), image.vector());
            }
            counts[1]++;
        });
        sums.forEach((category, sum) -> storedPrototypes.add(sum.toDelta(category)));
        bootstrapImages = counts[1];
        LOG.info("Admission subtask {} starts from {} stored images ({} categories with vectors) of key groups {}..{} "
                + "of {}, read in {} ms ({} rows read)", getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                counts[1], sums.size(), share.first(), share.last(), share.maxParallelism(),
                (System.nanoTime() - start) / 1_000_000, counts[0]);
    }

    @Override
    public void open() throws Exception {
        super.open();
        var group = getMetricGroup();
        admitted = group.counter("admitted");
        duplicates = group.counter("duplicates");
        deadLetters = group.counter("deadLetters");
        deadLettersByReason = new EnumMap<>(Rejection.class);
        long images = bootstrapImages;
        group.gauge("bootstrapImages", () -> images);
        if (!storedPrototypes.isEmpty()) {
            startDeadline(0);
        }
    }

    /** Sends the bootstrap's sums on, once. */
    @Override
    protected void flush() {
        if (storedPrototypes.isEmpty()) {
            return;
        }
        for (PrototypeDelta delta : storedPrototypes) {
            output.collect(STORED_PROTOTYPES, new StreamRecord<>(delta));
        }
        storedPrototypes.clear();
    }

    @Override
    public void processElement(StreamRecord<RawImage> element) throws Exception {
        flushNow();
        RawImage raw = element.getValue();
        ImageMeta meta = raw.meta();
        if (raw.rejection() != null) {
            deadLetter(meta, raw.rejection(), raw.rejectionDetail());
            return;
        }
        Seen previous = seen.value();
        String category = raw.label();
        if (previous != null) {
            if (!Arrays.equals(previous.sha256(), meta.sha256())) {
                deadLetter(meta, Rejection.HASH_COLLISION, "image id " + meta.imageId()
                        + " already stands for other bytes (their SHA-256 differs); the image is not stored");
                return;
            }
            if (previous.embedded()) {
                duplicates.inc();
                if (meta.isUpload()) {
                    output.collect(DUPLICATE_UPLOADS, new StreamRecord<>(meta));
                }
                return;
            }
            category = previous.storedCategory(); // stored before, under this category, without this model's vector
        }
        AdmittedImage image;
        try {
            image = preparation.prepare(raw, category);
        } catch (RejectedImageException e) {
            deadLetter(meta, e.reason(), e.getMessage());
            return;
        }
        seen.update(new Seen(meta.sha256(), null, true));
        admitted.inc();
        output.collect(element.replace(image));
    }

    private void deadLetter(ImageMeta meta, Rejection reason, String detail) {
        deadLetters.inc();
        deadLettersByReason.computeIfAbsent(reason, r -> getMetricGroup().counter("deadLetters_" + r.name())).inc();
        output.collect(DEAD_LETTERS, new StreamRecord<>(new DeadLetter(meta, reason, detail)));
    }
}
