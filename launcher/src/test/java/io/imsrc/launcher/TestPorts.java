package io.imsrc.launcher;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Free ports for the launcher's tests, and whether one is free again after a stop. */
final class TestPorts {

    private TestPorts() {}

    /**
     * A port free now, which another process may take before the test binds it: only for what must
     * be told its port before it starts and be found on it again (bin/imsrc run as a process and
     * restarted on the same ports, a test that checks a configured port is used). A server started
     * in this JVM gets port 0 and says which port it bound instead.
     */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }

    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
