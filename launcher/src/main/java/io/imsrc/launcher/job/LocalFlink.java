package io.imsrc.launcher;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A Flink of its own inside the launcher's process (a MiniCluster), with the web dashboard and REST
 * API on a port of the machine's loopback interface, for local mode.
 */
final class LocalFlink {

    private LocalFlink() {}

    /**
     * @param dashboardPort the dashboard's port; 0 picks a free one
     * @param slots task slots, at least the job's parallelism
     */
    static Environment start(int dashboardPort, int slots) throws IOException {
        int port = dashboardPort == 0 ? freePort() : dashboardPort;
        Configuration conf = new Configuration();
        conf.set(RestOptions.ADDRESS, "localhost");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, port);
        // The dashboard shows and cancels jobs; it must not run uploaded jars.
        conf.set(WebOptions.SUBMIT_ENABLE, false);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        return new Environment(StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf),
                "http://localhost:" + port);
    }

    /** The environment to build the job in, and where its dashboard will be. */
    record Environment(StreamExecutionEnvironment env, String dashboardUrl) {}

    /**
     * @throws IOException naming {@code what} and the setting that moves it when {@code port} (not 0)
     *     is taken on this machine
     */
    static void requireFree(int port, String what, String setting) throws IOException {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            throw new IOException("port " + port + " for " + what + " is taken (another imsrc, or another program); "
                    + "set " + setting + " to a free port, or 0 for any", e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }
}
