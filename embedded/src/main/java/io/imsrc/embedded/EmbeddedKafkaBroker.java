package io.imsrc.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A one-node Kafka broker in KRaft mode (broker and controller in one process), for the one command
 * and the integration tests: the same server a Kafka installation runs, from the kafka_2.13 jar.
 *
 * <p>Kafka 3.9 has no embedding API, so this does what {@code kafka-storage.sh format} and {@code
 * kafka-server-start.sh} do: formats the log directory with the metadata {@link Formatter} (skipped
 * when a persistent directory is formatted already, so data survives a restart), then starts {@link
 * KafkaRaftServer} ({@link KRaftConfig}). The controller's quorum voter needs a real port, so free
 * ports are picked first for both listeners, and a start whose picked port was taken meanwhile
 * is tried again with others; only 127.0.0.1 is listened on.
 *
 * <p>Messages may be up to {@link Options#maxMessageBytes} (broker {@code message.max.bytes}):
 * Kafka's default of 1 MB would refuse most image uploads. Internal topics have one replica, the
 * consumer group rebalance does not wait, and topics are not created by a client's first use: they
 * are made with {@link #createTopic}, with the size limit set.
 *
 * <p>{@link #stop} and {@link #restart} take the broker away and bring it back on the same ports and
 * log directory, as an administrator restarting Kafka does, for the tests of what imsrc does while
 * Kafka is gone.
 *
 * <p>Ownership: whoever calls {@link #start} owns the broker and must {@link #close} it; close is
 * idempotent, shuts the server down, waits for it, and deletes a temporary log directory. The
 * accessors are safe from any thread; stop, restart and close are serialized.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    /** Starts with ports picked anew when a picked one was taken before the server bound it. */
    private static final int START_TRIES = 3;

    /**
     * How to start the broker.
     *
     * @param dataDirectory where the log and metadata live, kept across restarts; null for a
     *     temporary directory deleted on close
     * @param port the client listener's port on 127.0.0.1; 0 picks a free one
     * @param maxMessageBytes the largest record batch the broker accepts (1 KiB to 1 GiB)
     */
    public record Options(Path dataDirectory, int port, int maxMessageBytes) {

        /** 64 MiB: room for uploads at several times MAX_UPLOAD_SIZE's default of 10 MiB. */
        public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 << 20;

        public Options {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be within 0..65535 (0 = any free port), got " + port);
            }
            if (maxMessageBytes < 1024 || maxMessageBytes > (1 << 30)) {
                throw new IllegalArgumentException("maxMessageBytes must be within 1 KiB..1 GiB, got " + maxMessageBytes);
            }
        }

        /** A temporary broker on a free port accepting messages up to 64 MiB. */
        public static Options defaults() {
            return new Options(null, 0, DEFAULT_MAX_MESSAGE_BYTES);
        }

        public Options withDataDirectory(Path dir) {
            return new Options(dir, port, maxMessageBytes);
        }

        public Options withPort(int newPort) {
            return new Options(dataDirectory, newPort, maxMessageBytes);
        }

        public Options withMaxMessageBytes(int bytes) {
            return new Options(dataDirectory, port, bytes);
        }
    }

    // A KafkaConfig is made anew for each start: a running server changes its own.
    private final Properties properties;
    private final int port;
    private final int maxMessageBytes;
    private final Path temporaryDirectory;
    private KafkaRaftServer server; // guarded by this; null while stopped
    private boolean closed; // guarded by this

    private EmbeddedKafkaBroker(Properties properties, KafkaRaftServer server, int port, int maxMessageBytes,
            Path temporaryDirectory) {
        this.properties = properties;
        this.server = server;
        this.port = port;
        this.maxMessageBytes = maxMessageBytes;
        this.temporaryDirectory = temporaryDirectory;
    }

    /** Formats the storage if needed, starts the broker and returns once it answers clients. */
    public static EmbeddedKafkaBroker start(Options options) {
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(options);
            } catch (RuntimeException e) {
                if (attempt == START_TRIES || !portTaken(e)) {
                    throw e;
                }
                LOG.info("A port picked for the embedded Kafka broker was taken before it bound it; picking others");
            }
        }
    }

    private static boolean portTaken(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
        }
        return false;
    }

    private static EmbeddedKafkaBroker startOnce(Options options) {
        Path temporary = null;
        KafkaRaftServer server = null;
        try {
            Path logDir = options.dataDirectory();
            if (logDir == null) {
                temporary = Files.createTempDirectory("imsrc-kafka-");
                logDir = temporary;
            } else {
                Files.createDirectories(logDir);
            }
            int port = options.port() == 0 ? KRaftConfig.freePort() : options.port();
            int controllerPort = KRaftConfig.freePort();
            Properties properties = KRaftConfig.properties(logDir, port, controllerPort, options.maxMessageBytes());
            KRaftConfig.format(logDir);
            server = new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM);
            server.startup();
            EmbeddedKafkaBroker broker =
                    new EmbeddedKafkaBroker(properties, server, port, options.maxMessageBytes(), temporary);
            broker.awaitReady();
            LOG.info("Embedded Kafka broker on 127.0.0.1:{} (data in {})", port, logDir);
            return broker;
        } catch (IOException e) {
            cleanUpFailedStart(server, temporary, e);
            throw new UncheckedIOException("Could not start the embedded Kafka broker", e);
        } catch (RuntimeException e) {
            cleanUpFailedStart(server, temporary, e);
            throw e;
        }
    }

    private static void cleanUpFailedStart(KafkaRaftServer server, Path temporary, Exception failure) {
        if (server != null) {
            try {
                server.shutdown();
                server.awaitShutdown();
            } catch (RuntimeException more) {
                failure.addSuppressed(more);
            }
        }
        if (temporary != null) {
            TemporaryDirectories.delete(temporary);
        }
    }

    private Admin admin() {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) STARTUP_TIMEOUT.toMillis(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    }

    private void awaitReady() {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the embedded Kafka broker", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the embedded Kafka broker did not answer within " + STARTUP_TIMEOUT, e);
        }
    }

    /**
     * Creates a topic with this broker's message size limit; an existing topic is left as it is.
     */
    public void createTopic(String name, int partitions) {
        NewTopic topic = new NewTopic(name, Optional.of(partitions), Optional.empty())
                .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes)));
        try (Admin admin = admin()) {
            admin.createTopics(List.of(topic)).all().get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("Could not create topic " + name, e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating topic " + name, e);
        }
    }

    /** The address clients connect to. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /**
     * Shuts the broker down cleanly and waits for it, keeping its log directory, even a temporary
     * one, and its ports for {@link #restart}. Idempotent.
     */
    public synchronized void stop() {
        if (closed) {
            throw new IllegalStateException("the embedded Kafka broker is closed");
        }
        if (server == null) {
            return;
        }
        KafkaRaftServer stopping = server;
        server = null;
        stopping.shutdown();
        stopping.awaitShutdown();
        LOG.info("Embedded Kafka broker on 127.0.0.1:{} stopped", port);
    }

    /**
     * Starts the broker again on the same ports and log directory (so with the same cluster,
     * topics and records), stopping it first when it runs; returns once it answers clients.
     */
    public synchronized void restart() {
        stop();
        KafkaRaftServer started = new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM);
        try {
            started.startup();
        } catch (RuntimeException e) {
            cleanUpFailedStart(started, null, e);
            throw e;
        }
        server = started; // close() shuts it down should it not answer in time
        awaitReady();
        LOG.info("Embedded Kafka broker on 127.0.0.1:{} started again", port);
    }

    /** Whether the broker runs: started and not {@link #stop stopped} or closed. */
    public synchronized boolean running() {
        return server != null;
    }

    /** Shuts the broker down and waits for it. Idempotent; a temporary log directory is deleted. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (server != null) {
                server.shutdown();
                server.awaitShutdown();
                server = null;
            }
        } finally {
            if (temporaryDirectory != null) {
                TemporaryDirectories.delete(temporaryDirectory);
            }
        }
    }
}
