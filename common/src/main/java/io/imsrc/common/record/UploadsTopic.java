package io.imsrc.common.record;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the uploads topic (KAFKA_UPLOADS_TOPIC) when it is missing, with a {@code
 * max.message.bytes} that fits the largest upload record, and raises that limit on an existing
 * topic whose limit is lower. Kafka's default of 1 MB would refuse most photos (docs/design.md,
 * "The upload record"). Whoever starts first, the query server or the ingest job, creates
 * it; both calls are idempotent.
 */
public final class UploadsTopic {

    private static final Logger LOG = LoggerFactory.getLogger(UploadsTopic.class);

    /** Partitions of a new uploads topic: the most ingest subtasks that share the uploads. */
    public static final int DEFAULT_PARTITIONS = 4;

    private UploadsTopic() {}

    /**
     * @param bootstrapServers the Kafka cluster
     * @param maxImageBytes MAX_UPLOAD_SIZE; the topic's limit becomes the largest record for it
     * @throws IllegalStateException naming the broker when Kafka cannot be reached within the timeout
     */
    public static void ensureExists(String bootstrapServers, String topic, long maxImageBytes, Duration timeout) {
        long maxRecordBytes = UploadRecordCodec.maxRecordBytes(maxImageBytes);
        if (maxRecordBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("uploads of " + maxImageBytes + " bytes do not fit a Kafka record");
        }
        String limit = Long.toString(maxRecordBytes);
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000)))) {
            NewTopic newTopic = new NewTopic(topic, Optional.of(DEFAULT_PARTITIONS), Optional.empty())
                    .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, limit));
            try {
                admin.createTopics(List.of(newTopic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                LOG.info("Created the Kafka topic {} ({} partitions, records up to {} bytes)", topic, DEFAULT_PARTITIONS,
                        limit);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(resource);
            ConfigEntry current = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            if (current == null || current.value() == null || Long.parseLong(current.value()) < maxRecordBytes) {
                Collection<AlterConfigOp> ops = List.of(new AlterConfigOp(
                        new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, limit), AlterConfigOp.OpType.SET));
                admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                LOG.info("Raised max.message.bytes of the Kafka topic {} to {}", topic, limit);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing the Kafka topic " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot prepare the Kafka topic " + topic + " on " + bootstrapServers + ": "
                    + cause, cause);
        }
    }
}
