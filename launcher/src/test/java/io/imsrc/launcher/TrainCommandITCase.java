package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Waiting;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/imsrc train} as a user runs it, in a process of its own: SIGTERM (what Ctrl-C and a
 * service manager send) in the middle of a run leaves a checkpoint, and {@code --resume} carries
 * the run to its end and writes a model that {@code MODEL_NAME} then names.
 */
class TrainCommandITCase {

    private static final Path IMSRC = Path.of("..", "bin", "imsrc").toAbsolutePath().normalize();
    private static final Duration DEADLINE = Duration.ofMinutes(4);

    private final Path logs = Path.of("target", "train-e2e").toAbsolutePath();
    private final List<Process> started = new ArrayList<>();

    @TempDir Path temp;

    @AfterEach
    void killLeftovers() throws Exception {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private Process start(String name, String... args) throws IOException {
        Files.createDirectories(logs);
        List<String> command = new ArrayList<>(List.of(IMSRC.toString(), "train"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(temp.toFile())
                .redirectOutput(logs.resolve(name + ".out").toFile())
                .redirectError(logs.resolve(name + ".err").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("DB_") || k.startsWith("MODEL_"));
        builder.environment().put("DATA_DIR", temp.resolve("data").toString());
        builder.environment().put("JAVA_OPTS", "-Xmx1g");
        builder.environment().remove("IMSRC_REBUILD");
        Process process = builder.start();
        started.add(process);
        return process;
    }

    private String console(String name) throws IOException {
        return Files.readString(logs.resolve(name + ".out"), StandardCharsets.UTF_8);
    }

    @Test
    void sigterm_leaves_a_checkpoint_and_resume_finishes_the_run() throws Exception {
        Path images = CifarData.writeFolder(temp.resolve("images"),
                CifarData.asFiles(CifarData.sample("train", 16)));
        String[] run = {"--name", "mine", "--no-library", "--source", images + "#cifar-10-jpg/train",
            "--holdout-fraction", "0.2", "--epochs", "60", "--batch-size", "16", "--threads", "1"};
        Process first = start("first", run);
        Waiting.until(() -> console("first").contains("epoch 2/60 done"), "two epochs", DEADLINE);
        first.destroy(); // SIGTERM
        assertThat(first.waitFor(2, TimeUnit.MINUTES)).isTrue();
        Path state = temp.resolve("data/models/mine/checkpoint/state.json");
        assertThat(state).isRegularFile();
        assertThat(console("first")).containsPattern("stopped(:| after) (checkpoint at )?epoch \\d+");
        JsonNode checkpoint = new ObjectMapper().readTree(state.toFile());
        int epochDone = checkpoint.get("epoch").asInt();
        assertThat(epochDone).isBetween(2, 59);
        assertThat(temp.resolve("data/models/mine/mine.params")).doesNotExist();

        Process resumed = start("resumed", "--name", "mine", "--resume");
        assertThat(resumed.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(resumed.exitValue()).as(console("resumed")).isZero();
        assertThat(console("resumed")).contains("resuming at epoch " + (epochDone + 1))
                .contains("epoch 60/60 done").contains("held-out: classifier accuracy")
                .contains("MODEL_NAME=mine");
        JsonNode metrics = new ObjectMapper().readTree(temp.resolve("data/models/mine/mine.metrics.json").toFile());
        assertThat(metrics.get("epochs")).hasSize(60);
        assertThat(metrics.at("/options/epochs").asInt()).isEqualTo(60);
        assertThat(temp.resolve("data/models/mine/checkpoint")).doesNotExist();

        // MODEL_NAME=mine: the embed command finds the trained model in DATA_DIR/models.
        ProcessBuilder embed = new ProcessBuilder(IMSRC.toString(), "embed",
                images.resolve("cifar-10-jpg/train/cat/0001.jpg").toString())
                .directory(temp.toFile())
                .redirectErrorStream(true);
        embed.environment().put("DATA_DIR", temp.resolve("data").toString());
        embed.environment().put("MODEL_NAME", "mine");
        embed.environment().put("JAVA_OPTS", "-Xmx1g");
        Process p = embed.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains(metrics.get("modelId").asText());
    }
}
