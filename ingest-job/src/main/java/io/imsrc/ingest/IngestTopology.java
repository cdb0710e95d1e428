package io.imsrc.ingest;

import io.imsrc.common.record.UploadsTopic;
import io.imsrc.ingest.admit.ImageAdmissionOperator;
import io.imsrc.ingest.admit.ImagePreparation;
import io.imsrc.ingest.admit.JdbcAdmissionBootstrap;
import io.imsrc.ingest.embed.BatchEmbedOperator;
import io.imsrc.ingest.prototype.BatchPrototypeDeltas;
import io.imsrc.ingest.prototype.PrototypeOperator;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.PrototypeDelta;
import io.imsrc.ingest.record.PrototypeRow;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.sink.IngestSinks;
import io.imsrc.ingest.source.bulk.BulkPlanner;
import io.imsrc.ingest.source.bulk.BulkSource;
import io.imsrc.ingest.source.bulk.BulkSourceResolver;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.source.bulk.ResolvedBulkSource;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import io.imsrc.ingest.source.upload.UploadSources;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles the ingest job's dataflow:
 *
 * <pre>
 * bulk sources ─┐
 *               ├─ keyBy(image id) ─ admit: dedup + decode ─ embed: micro-batches ─┬─ sink: images + vectors
 * uploads ──────┘        │ dead letters ─ sink   │ duplicate uploads ─ sink        │
 *                        └ stored prototypes ─────┴─ per-category deltas ─ keyBy(category)
 *                                                                      ─ prototypes ─ sink
 * </pre>
 *
 * Source, admission, embedding and the image sink are chained into one task per parallel subtask
 * (no serialization between them); only the raw bytes cross the network at the first keyBy and
 * only one sum per category and batch at the second.
 *
 * <p>Building it does I/O at the client on purpose: bulk sources are downloaded, checked and
 * planned, and the uploads topic created, so a wrong path or an unreachable broker fails before
 * anything is submitted.
 */
public final class IngestTopology {

    private static final Logger LOG = LoggerFactory.getLogger(IngestTopology.class);

    /** How long a file must be left unchanged in a watched folder before it is read. */
    static final long WATCH_SETTLE_MS = 1000;

    private IngestTopology() {}

    /**
     * What was attached.
     *
     * @param plannedImages images the bounded sources will read (uploads and watched folders come on
     *     top)
     * @param unbounded whether the job runs until cancelled (uploads or a watched folder)
     * @param plannedPerSource images each bulk source will read, in the options' order; 0 for a
     *     watched folder
     */
    public record Summary(long plannedImages, boolean unbounded, List<Long> plannedPerSource) {

        public Summary {
            plannedPerSource = List.copyOf(plannedPerSource);
        }
    }

    /** A source's name for the dashboard: its file name and root, as Flink cuts metric names at 80 characters. */
    static String shortName(BulkSourceSpec spec) {
        String location = spec.location().replaceAll("/+$", "");
        String name = location.substring(location.lastIndexOf('/') + 1) + (spec.root().isEmpty() ? "" : "#" + spec.root());
        return (name.length() > 60 ? "..." + name.substring(name.length() - 57) : name) + (spec.watch() ? " (watched)" : "");
    }

    /** Attaches the ingest dataflow to {@code env}. */
    public static Summary attach(StreamExecutionEnvironment env, IngestJobOptions options) throws IOException {
        return attach(env, options, UnaryOperator.identity());
    }

    /**
     * Attaches the dataflow with {@code beforeAdmission} applied to the raw images, for tests that
     * inject a failure mid-stream; it must pass every record on unchanged.
     */
    public static Summary attach(
            StreamExecutionEnvironment env, IngestJobOptions options, UnaryOperator<DataStream<RawImage>> beforeAdmission)
            throws IOException {
        long maxImageBytes = options.search().maxUploadSize();
        List<DataStream<RawImage>> inputs = new ArrayList<>();
        long planned = 0;
        List<Long> plannedPerSource = new ArrayList<>();
        boolean unbounded = false;
        for (int i = 0; i < options.bulkSources().size(); i++) {
            BulkSourceSpec spec = options.bulkSources().get(i);
            ResolvedBulkSource resolved = BulkSourceResolver.resolve(spec, options.cacheDir(), maxImageBytes);
            List<BulkSplit> splits = List.of();
            if (resolved.watch()) {
                unbounded = true;
                plannedPerSource.add(0L);
                LOG.info("Watching {} for images", spec);
            } else {
                BulkPlanner.Plan plan = BulkPlanner.plan(resolved);
                splits = plan.splits();
                planned += plan.imageCount();
                plannedPerSource.add(plan.imageCount());
                LOG.info("{}: {} images in {} splits", spec, plan.imageCount(), splits.size());
            }
            BulkSource source = new BulkSource(resolved, splits, options.watchIntervalMs(), WATCH_SETTLE_MS);
            inputs.add(env.fromSource(source, WatermarkStrategy.noWatermarks(), "bulk: " + shortName(spec))
                    .uid("bulk-source-" + i));
        }
        if (options.uploads() != null) {
            unbounded = true;
            UploadsTopic.ensureExists(options.uploads().bootstrapServers(), options.uploads().topic(),
                    maxImageBytes, Duration.ofSeconds(60));
            inputs.add(env.fromSource(UploadSources.kafka(options.uploads(), maxImageBytes),
                            WatermarkStrategy.noWatermarks(), "uploads: Kafka " + options.uploads().topic())
                    .uid("upload-source"));
        }
        DataStream<RawImage> raw = inputs.get(0);
        for (DataStream<RawImage> more : inputs.subList(1, inputs.size())) {
            raw = raw.union(more);
        }
        raw = beforeAdmission.apply(raw);

        String modelId = options.embedding().modelId();
        ImagePreparation preparation = new ImagePreparation(
                options.embedding().model(), maxImageBytes, options.images().maxImagePixels());
        SingleOutputStreamOperator<AdmittedImage> admitted = raw
                .keyBy(image -> image.meta().imageId(), Types.LONG)
                .transform("admit: dedup + decode", TypeInformation.of(AdmittedImage.class),
                        new ImageAdmissionOperator(preparation, new JdbcAdmissionBootstrap(options.database(), modelId)))
                .uid("admit");
        SingleOutputStreamOperator<EmbeddedBatch> embedded = admitted
                .transform("embed: micro-batches", TypeInformation.of(EmbeddedBatch.class),
                        new BatchEmbedOperator(options.embedding()))
                .uid("embed");
        // Chained: a sink of its own (measured with disableChaining) was no faster, since the model
        // keeps both cores busy anyway (docs/benchmarks.md, "Ingest throughput").
        embedded.sinkTo(IngestSinks.images(options.database(), modelId))
                .name("PostgreSQL: images + vectors")
                .uid("images-sink");

        DataStream<PrototypeDelta> deltas = embedded
                .flatMap(new BatchPrototypeDeltas())
                .returns(TypeInformation.of(PrototypeDelta.class))
                .name("per-category sums")
                .uid("prototype-deltas")
                .union(admitted.getSideOutput(ImageAdmissionOperator.STORED_PROTOTYPES));
        deltas.keyBy(PrototypeDelta::category, Types.STRING)
                .transform("prototypes", TypeInformation.of(PrototypeRow.class),
                        new PrototypeOperator(options.flushIntervalMs()))
                .uid("prototypes")
                .sinkTo(IngestSinks.prototypes(options.database(), modelId, options.flushIntervalMs()))
                .name("PostgreSQL: prototypes")
                .uid("prototypes-sink");

        admitted.getSideOutput(ImageAdmissionOperator.DEAD_LETTERS)
                .sinkTo(IngestSinks.deadLetters(options.database(), options.flushIntervalMs()))
                .name("PostgreSQL: dead letters")
                .uid("dead-letters-sink");
        admitted.getSideOutput(ImageAdmissionOperator.DUPLICATE_UPLOADS)
                .sinkTo(IngestSinks.indexedUploads(options.database(), options.flushIntervalMs()))
                .name("PostgreSQL: indexed uploads")
                .uid("indexed-uploads-sink");
        return new Summary(planned, unbounded, plannedPerSource);
    }
}
