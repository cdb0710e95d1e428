package io.imsrc.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaBrokerITCase {

    private static final int BIG = 3 << 20; // over Kafka's default 1 MB, as a photo upload is

    @TempDir Path temp;

    private static KafkaProducer<byte[], byte[]> producer(EmbeddedKafkaBroker broker, int maxRequestSize) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestSize,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static List<ConsumerRecord<byte[], byte[]>> consume(EmbeddedKafkaBroker broker, String topic, int expected) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, BIG + (1 << 20)),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    @Test
    void a_record_larger_than_kafkas_default_limit_goes_through() throws Exception {
        byte[] value = new byte[BIG];
        new Random(1).nextBytes(value);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults())) {
            broker.createTopic("uploads", 2);
            broker.createTopic("uploads", 2); // idempotent
            try (var producer = producer(broker, BIG + (1 << 20))) {
                producer.send(new ProducerRecord<>("uploads", "k".getBytes(), value)).get();
            }

            List<ConsumerRecord<byte[], byte[]>> records = consume(broker, "uploads", 1);

            assertThat(records).hasSize(1);
            assertThat(records.get(0).value()).isEqualTo(value);
            assertThat(broker.maxMessageBytes()).isEqualTo(EmbeddedKafkaBroker.Options.DEFAULT_MAX_MESSAGE_BYTES);
        }
    }

    @Test
    void the_broker_refuses_records_over_its_own_limit() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(
                        EmbeddedKafkaBroker.Options.defaults().withMaxMessageBytes(1 << 20));
                var producer = producer(broker, BIG + (1 << 20))) {
            broker.createTopic("small", 1);
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("small", new byte[2 << 20])).get())
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(RecordTooLargeException.class);
        }
    }

    @Test
    void data_written_before_a_restart_is_there_after_it() throws Exception {
        var options = EmbeddedKafkaBroker.Options.defaults().withDataDirectory(temp.resolve("kafka"));
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(options)) {
            broker.createTopic("kept", 1);
            try (var producer = producer(broker, 1 << 20)) {
                producer.send(new ProducerRecord<>("kept", "before restart".getBytes())).get();
            }
        }
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(options)) {
            List<ConsumerRecord<byte[], byte[]>> records = consume(broker, "kept", 1);
            assertThat(records).extracting(r -> new String(r.value())).containsExactly("before restart");
        }
    }

    @Test
    void a_stopped_broker_comes_back_on_its_port_with_its_records() throws Exception {
        // A temporary log directory: stop must keep even that one's records.
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults());
                var producer = producer(broker, 1 << 20)) {
            int port = broker.port();
            broker.createTopic("survives", 1);
            producer.send(new ProducerRecord<>("survives", "before the stop".getBytes())).get();

            broker.stop();
            broker.stop(); // idempotent

            assertThat(broker.running()).isFalse();
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }

            broker.restart();

            assertThat(broker.running()).isTrue();
            assertThat(broker.port()).isEqualTo(port);
            // The producer made before the stop reconnects to the same address by itself.
            producer.send(new ProducerRecord<>("survives", "after the restart".getBytes())).get();
            assertThat(consume(broker, "survives", 2)).extracting(r -> new String(r.value()))
                    .containsExactly("before the stop", "after the restart");
        }
    }

    @Test
    void close_is_idempotent_and_frees_the_port_and_threads() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults());
        int port = broker.port();
        broker.close();
        broker.close();
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            assertThat(socket.getLocalPort()).isEqualTo(port);
        }
        // Threads that end a moment after shutdown returns are fine; any left after the deadline would
        // keep a JVM alive.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && !t.isDaemon() && !before.contains(t))
                    .map(Thread::getName)
                    .toList();
        } while (!left.isEmpty() && System.nanoTime() < deadline && pause());
        assertThat(left).as("non-daemon threads the broker left").isEmpty();
    }

    private static boolean pause() throws InterruptedException {
        Thread.sleep(100);
        return true;
    }

    @Test
    void the_shared_broker_hands_out_separate_topics() throws Exception {
        String a = SharedKafka.newTopic("it", 1);
        String b = SharedKafka.newTopic("it", 1);
        assertThat(a).isNotEqualTo(b);
        try (var producer = producer(SharedKafka.get(), 1 << 20)) {
            producer.send(new ProducerRecord<>(a, "to a".getBytes())).get();
        }
        assertThat(consume(SharedKafka.get(), a, 1)).hasSize(1);
    }
}
