package io.imsrc.launcher.job;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.flink.client.deployment.executors.LocalExecutor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A Flink of its own inside the launcher's process (a MiniCluster, started when the job is
 * submitted and shut down when it ends), with the web dashboard and REST API on the machine's
 * loopback interface, for local mode.
 *
 * <p>Port 0 is bound by the REST server itself and read back from the MiniCluster ({@link
 * #dashboardUrl}), instead of picking a free port first and binding it later, which another process
 * may take in between. That is why this builds the environment on Flink's {@link LocalExecutor}
 * with a MiniCluster factory of its own rather than with {@code createLocalEnvironmentWithWebUI}:
 * only then is the MiniCluster, and so the port it bound, in reach.
 */
public final class LocalFlink {

    private final StreamExecutionEnvironment env;
    private final AtomicReference<MiniCluster> cluster = new AtomicReference<>();

    private LocalFlink(Configuration conf) {
        PipelineExecutorFactory local = new PipelineExecutorFactory() {
            @Override
            public String getName() {
                return LocalExecutor.NAME;
            }

            @Override
            public boolean isCompatibleWith(Configuration configuration) {
                return true;
            }

            @Override
            public LocalExecutor getExecutor(Configuration configuration) {
                return LocalExecutor.createWithFactory(configuration, miniClusterConf -> {
                    MiniCluster started = new MiniCluster(miniClusterConf);
                    cluster.set(started);
                    return started;
                });
            }
        };
        PipelineExecutorServiceLoader loader = new PipelineExecutorServiceLoader() {
            @Override
            public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
                return local;
            }

            @Override
            public Stream<String> getExecutorNames() {
                return Stream.of(LocalExecutor.NAME);
            }
        };
        this.env = new StreamExecutionEnvironment(loader, conf, LocalFlink.class.getClassLoader());
    }

    /**
     * @param dashboardPort the dashboard's port; 0 lets the REST server bind a free one
     * @param slots task slots, at least the job's parallelism
     */
    public static LocalFlink create(int dashboardPort, int slots) {
        Configuration conf = new Configuration();
        conf.set(DeploymentOptions.TARGET, LocalExecutor.NAME);
        conf.set(DeploymentOptions.ATTACHED, true);
        conf.set(RestOptions.ADDRESS, "localhost");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, dashboardPort);
        // The dashboard shows and cancels jobs; it must not run uploaded jars.
        conf.set(WebOptions.SUBMIT_ENABLE, false);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        return new LocalFlink(conf);
    }

    /** The environment to build the job in; its {@code executeAsync} starts the MiniCluster. */
    public StreamExecutionEnvironment env() {
        return env;
    }

    /**
     * The dashboard's address, {@code http://localhost:PORT} with the port the REST server bound.
     *
     * @throws IllegalStateException before the job was submitted (no MiniCluster runs yet)
     */
    public String dashboardUrl() throws IOException {
        MiniCluster started = cluster.get();
        if (started == null) {
            throw new IllegalStateException("the local Flink starts with the job: submit it first");
        }
        try {
            // The MiniCluster names the bind address; the dashboard is shown as localhost, as configured.
            return "http://localhost:" + started.getRestAddress().get(60, TimeUnit.SECONDS).getPort();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the local Flink's REST address", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the local Flink has no REST address: " + e, e);
        }
    }

    /**
     * @throws IOException naming {@code what} and the setting that moves it when {@code port} (not 0)
     *     is taken on this machine
     */
    public static void requireFree(int port, String what, String setting) throws IOException {
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
}
