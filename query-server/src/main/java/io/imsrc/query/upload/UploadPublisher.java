package io.imsrc.query.upload;

import io.imsrc.common.io.Closeables;
import io.imsrc.common.io.Futures;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.common.record.UploadsTopic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes upload records to the uploads topic for the ingest job, with the record format of
 * common ({@link UploadRecordCodec}) and key = image id, so one image's uploads stay in order on one
 * partition.
 *
 * <p>The producer is idempotent with {@code acks=all}: a publish that returns has been written to
 * every in-sync replica, and a retry inside the producer never duplicates a record. Its request and
 * buffer limits fit the largest upload (Kafka's default of 1 MB would refuse most photos;
 * docs/design.md, "The upload record"); the topic is created with a matching {@code
 * max.message.bytes} on first use, so the server starts even while Kafka is down and uploads answer
 * 503 until it is back.
 *
 * <p>Thread-safe. Owns its producer and admin client; {@link #close} closes them, idempotently.
 */
public final class UploadPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UploadPublisher.class);

    private final String topic;
    private final String bootstrapServers;
    private final long maxImageBytes;
    private final Duration timeout;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Admin admin;
    private volatile boolean topicReady;
    private volatile boolean closed;

    /**
     * @param maxImageBytes MAX_UPLOAD_SIZE
     * @param timeout how long one publish may wait for Kafka before it fails
     */
    public UploadPublisher(String bootstrapServers, String topic, long maxImageBytes, Duration timeout) {
        this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        this.topic = Objects.requireNonNull(topic, "topic");
        this.maxImageBytes = maxImageBytes;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        long maxRecord = UploadRecordCodec.maxRecordBytes(maxImageBytes);
        // A request carries the record plus Kafka's batch and request headers.
        int maxRequest = (int) Math.min(Integer.MAX_VALUE, maxRecord + 64 * 1024);
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "imsrc-query-server",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequest,
                ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(32L << 20, 2L * maxRequest),
                // Images are compressed already; an upload goes out at once.
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs,
                // Kafka wants delivery.timeout.ms >= linger.ms + request.timeout.ms.
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs),
                new ByteArraySerializer(), new ByteArraySerializer());
        this.admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, "imsrc-query-server-admin",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(timeoutMs, 5_000)));
    }

    public String topic() {
        return topic;
    }

    /**
     * Publishes every record and waits until Kafka has them all, or the timeout passes.
     *
     * @return per record, in order: {@code null} when it was written, else why it was not
     */
    public List<Exception> publishAll(List<UploadRecord> records) throws InterruptedException {
        if (closed) {
            throw new IllegalStateException("the upload publisher is closed");
        }
        Exception topicProblem = ensureTopic();
        if (topicProblem != null) {
            return records.stream().map(r -> topicProblem).toList();
        }
        // One deadline for the whole upload. A send blocks until Kafka's metadata comes (up to the
        // timeout): once one gives up, or the deadline has passed, the rest are not tried, or a
        // 100-file upload with Kafka away would hold its thread for 100 timeouts.
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>(records.size());
        Exception givenUp = null;
        for (UploadRecord record : records) {
            if (givenUp == null && System.nanoTime() > deadline) {
                givenUp = new TimeoutException("Kafka did not take the upload within " + timeout.toSeconds() + " s");
            }
            if (givenUp != null) {
                sent.add(CompletableFuture.failedFuture(givenUp));
                continue;
            }
            CompletableFuture<RecordMetadata> future = send(record);
            if (future.isCompletedExceptionally()) {
                givenUp = future.handle((ok, failure) -> failure instanceof Exception e ? e
                        : new IllegalStateException(failure)).join();
            }
            sent.add(future);
        }
        return sent.stream().map(f -> {
            try {
                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                return (Exception) null;
            } catch (ExecutionException e) {
                return Futures.cause(e) instanceof Exception cause ? cause : e;
            } catch (TimeoutException e) {
                return e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return e;
            }
        }).toList();
    }

    private CompletableFuture<RecordMetadata> send(UploadRecord record) {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(topic, UploadRecordCodec.key(record.imageId()),
                    UploadRecordCodec.encode(record)), (metadata, failure) -> {
                        if (failure != null) {
                            result.completeExceptionally(failure);
                        } else {
                            result.complete(metadata);
                        }
                    });
        } catch (RuntimeException e) {
            // The producer refuses before sending: no metadata in time, a record too large.
            result.completeExceptionally(e);
        }
        return result;
    }

    /** Creates the topic on first use; null when it exists, else why it cannot be had now. */
    private Exception ensureTopic() {
        if (topicReady) {
            return null;
        }
        synchronized (this) {
            if (topicReady) {
                return null;
            }
            try {
                UploadsTopic.ensureExists(bootstrapServers, topic, maxImageBytes, timeout);
                topicReady = true;
                return null;
            } catch (RuntimeException e) {
                LOG.warn("The uploads topic {} cannot be prepared: {}", topic, e.getMessage());
                return e;
            }
        }
    }

    /** Whether a Kafka broker answers within a few seconds. */
    public boolean reachable() {
        try {
            return !admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).nodes()
                    .get(3, TimeUnit.SECONDS).isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closeables.closeAll(() -> producer.close(Duration.ofSeconds(10)), () -> admin.close(Duration.ofSeconds(5)));
    }
}
