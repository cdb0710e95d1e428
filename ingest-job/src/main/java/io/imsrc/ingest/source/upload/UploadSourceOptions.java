package io.imsrc.ingest.source.upload;

import java.util.Objects;

/**
 * Where the job reads uploads from.
 *
 * @param bootstrapServers the Kafka cluster (KAFKA_BOOTSTRAP_SERVERS, or the embedded broker's)
 * @param topic KAFKA_UPLOADS_TOPIC
 * @param groupId the consumer group whose committed offsets a fresh job starts from
 */
public record UploadSourceOptions(String bootstrapServers, String topic, String groupId) {

    public static final String DEFAULT_GROUP_ID = "imsrc-ingest";

    public UploadSourceOptions {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(groupId, "groupId");
    }
}
