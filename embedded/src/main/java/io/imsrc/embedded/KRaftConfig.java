package io.imsrc.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.storage.Formatter;

/**
 * What {@code server.properties} and {@code kafka-storage.sh format} give a one-node KRaft cluster
 * (broker and controller in one process), for {@link EmbeddedKafkaBroker}.
 *
 * <p>Its ports are picked before the server starts ({@link #freePort}), which another process may
 * take in between: {@link kafka.server.KafkaRaftServer} reads the controller quorum's address
 * ({@code controller.quorum.voters}) from its configuration before anything binds, so the
 * controller listener cannot be port 0, and it does not tell which port a client listener given
 * port 0 bound. The broker retries its start with other ports instead.
 */
final class KRaftConfig {

    private static final int NODE_ID = 1;

    private KRaftConfig() {}

    /** The server.properties of a one-node cluster listening on 127.0.0.1 only. */
    static Properties properties(Path logDir, int port, int controllerPort, int maxMessageBytes) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        p.put("num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // After a crash (kill -9) the controller replays the old broker registration and refuses the
        // new one until that session expires: 9 s by default, which made such a restart take 17 s.
        // The broker heartbeats to itself, inside this JVM, so a short session is safe.
        p.put("broker.session.timeout.ms", "3000");
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("auto.create.topics.enable", "false");
        p.put("message.max.bytes", Integer.toString(maxMessageBytes));
        p.put("replica.fetch.max.bytes", Integer.toString(maxMessageBytes));
        p.put("socket.request.max.bytes", Integer.toString(Math.max(maxMessageBytes + (1 << 20), 100 << 20)));
        return p;
    }

    /** Writes meta.properties and the bootstrap metadata, unless a former start has. */
    static void format(Path logDir) {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return; // formatted by a former start, with its cluster id
        }
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(logDir.toAbsolutePath().toString());
        formatter.addDirectory(logDir.toAbsolutePath().toString());
        try {
            formatter.run();
        } catch (Exception e) {
            throw new IllegalStateException("Could not format the Kafka log directory " + logDir + ": " + e.getMessage(), e);
        }
    }

    /** A port free on the loopback interface now; see the class comment for why not port 0. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }
}
