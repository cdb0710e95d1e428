package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.Settings;
import io.imsrc.query.QueryServer;
import io.imsrc.testing.Ports;
import io.imsrc.testing.Waiting;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code imsrc ingest --no-bulk --serve} as a user starts it, on a thread of the test: embedded
 * PostgreSQL and Kafka, the job in a local Flink, the query server on free ports. {@link #close}
 * stops it as Ctrl-C does.
 */
final class ServingIngest implements AutoCloseable {

    private final IngestCommand command;
    private final CapturedConsole console;
    private final CompletableFuture<Integer> exit;

    private ServingIngest(IngestCommand command, CapturedConsole console, CompletableFuture<Integer> exit) {
        this.command = command;
        this.console = console;
        this.exit = exit;
    }

    /**
     * Settings for a quick test run: free ports (named up front: the tests check that the services
     * come up on the ports they name), checkpoints every second, small batches and a
     * 200 ms index refresh; put more before {@link #start}.
     */
    static Map<String, String> environment(Path dataDir, String apiToken) throws IOException {
        return new HashMap<>(Map.of(
                "DATA_DIR", dataDir.toString(),
                "FLINK_WEB_PORT", Integer.toString(Ports.free()),
                "CHECKPOINT_INTERVAL_MS", "1000",
                "BATCH_SIZE", "8",
                "BATCH_MAX_DELAY_MS", "50",
                "API_TOKEN", apiToken,
                "API_HOST", "127.0.0.1",
                "API_PORT", Integer.toString(Ports.free()),
                "INDEX_REFRESH_MS", "200"));
    }

    /** Starts it and waits until the job runs and the server answers. */
    static ServingIngest start(Map<String, String> environment) throws Exception {
        return start(environment, "--no-bulk", "--serve");
    }

    /** Starts {@code imsrc ingest} with these arguments (which must include --serve) and waits as above. */
    static ServingIngest start(Map<String, String> environment, String... arguments) throws Exception {
        CapturedConsole console = new CapturedConsole();
        IngestCommand command = new IngestCommand().withSettings(Settings.of(environment));
        CompletableFuture<Integer> exit =
                CompletableFuture.supplyAsync(() -> console.commandLine(command).execute(arguments));
        ServingIngest ingest = new ServingIngest(command, console, exit);
        try {
            Waiting.until(() -> command.running() != null || exit.isDone(), "the ingest job and the server to start");
            assertThat(exit).as(ingest.console()).isNotDone();
            return ingest;
        } catch (Exception | AssertionError e) {
            ingest.close();
            throw e;
        }
    }

    QueryServer server() {
        return command.running().server();
    }

    /** The local Flink's REST address (its dashboard). */
    String dashboardUrl() {
        return command.running().dashboardUrl();
    }

    String jobId() {
        return command.running().jobId();
    }

    String console() {
        return console.out();
    }

    /** Stops it (Ctrl-C's path) and returns the command's exit code. */
    int stop() throws Exception {
        command.stop();
        return exit.get();
    }

    @Override
    public void close() {
        command.stop();
    }
}
