package io.imsrc.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Ports on 127.0.0.1 for the tests that must name a port before anything listens on it, and whether
 * one is free again after a stop.
 *
 * <p>A server the test starts in its own JVM binds port 0 and reports the port it got (Javalin,
 * {@code HttpServer}, the embedded brokers): that leaves no window in which another build could take
 * the port. {@link #free()} is for the rest, and each caller says why: a child process configured
 * through its environment or a config file (bin/imsrc, a standalone Flink cluster), or an address
 * where nothing may listen (a dependency that is down). Between {@code free()} and the bind someone
 * else can take the port; those tests accept that small race.
 */
public final class Ports {

    private Ports() {}

    /** A port that was free a moment ago: nothing listens on it once this returns. */
    public static int free() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }

    /** Whether {@code port} can be bound on 127.0.0.1 now (a stopped server released it). */
    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
