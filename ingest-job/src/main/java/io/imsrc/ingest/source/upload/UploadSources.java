package io.imsrc.ingest.source.upload;

import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.ingest.record.RawImage;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The Kafka source of the uploads topic. Offsets are part of the job's checkpoints and committed
 * to the consumer group when a checkpoint completes; a job without restored state starts from the
 * group's committed offsets (the earliest record when the group is new), and the admission
 * operator drops what the store already has.
 */
public final class UploadSources {

    private UploadSources() {}

    public static KafkaSource<RawImage> kafka(UploadSourceOptions options, long maxImageBytes) {
        return KafkaSource.<RawImage>builder()
                .setBootstrapServers(options.bootstrapServers())
                .setTopics(options.topic())
                .setGroupId(options.groupId())
                .setClientIdPrefix(options.groupId())
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new UploadRecordDeserializer(maxImageBytes))
                // Kafka's default 1 MB per partition fetch would stall on a large upload (docs/design.md,
                // "The upload record").
                .setProperty("max.partition.fetch.bytes", Long.toString(UploadRecordCodec.maxRecordBytes(maxImageBytes)))
                .setProperty("partition.discovery.interval.ms", "30000")
                .build();
    }
}
