package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.testing.TestImages;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command's handling of arguments, settings and bad files, without the model: the embedder
 * source here fails the test if it is ever asked for a model.
 */
class EmbedCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(Map<String, String> env, EmbedCommand.EmbedderSource source, String... args) {
        CommandLine commandLine = new CommandLine(new EmbedCommand(env, source, true));
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        return commandLine.execute(args);
    }

    private static EmbedCommand.EmbedderSource noModelExpected() {
        return (description, options) -> {
            throw new AssertionError("no model should be loaded when no file decodes");
        };
    }

    @Test
    void a_text_file_gets_an_error_object_with_its_reason_and_a_non_zero_exit(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("notes.jpg");
        Files.writeString(text, "just words", StandardCharsets.UTF_8);
        Path empty = Files.createFile(dir.resolve("empty.png"));

        int exit = execute(Map.of(), noModelExpected(), text.toString(), empty.toString(), dir.resolve("missing.gif").toString());

        assertThat(exit).isEqualTo(EmbedCommand.EXIT_SOME_FAILED);
        List<JsonNode> lines = jsonLines(out.toString());
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0).get("file").asText()).isEqualTo(text.toString());
        assertThat(lines.get(0).at("/error/reason").asText()).isEqualTo("NOT_AN_IMAGE");
        assertThat(lines.get(1).at("/error/reason").asText()).isEqualTo("EMPTY");
        assertThat(lines.get(2).at("/error/reason").asText()).isEqualTo("UNREADABLE");
        assertThat(lines.get(0).at("/error/message").asText()).isNotBlank();
    }

    @Test
    void options_win_over_the_environment_which_wins_over_the_defaults(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("a.png");
        Files.write(png, TestImages.encode(TestImages.noise(8, 8, 1), "png"));
        List<Object> seen = new ArrayList<>();
        EmbedCommand.EmbedderSource capture = (description, options) -> {
            seen.add(description);
            seen.add(options);
            throw new EmbeddingException("stop here");
        };
        Map<String, String> env = Map.of("MODEL_NAME", "resnet56-cifar10", "MODEL_PATH", "/models/from-env.pt",
                "DEVICE", "cpu", "BATCH_SIZE", "4", "DATA_DIR", "/tmp/imsrc-data");

        int exit = execute(env, capture, "--batch-size", "16", png.toString());

        assertThat(exit).isEqualTo(EmbedCommand.EXIT_MODEL);
        assertThat(err.toString()).contains("stop here");
        ModelDescription description = (ModelDescription) seen.get(0);
        EmbedderOptions options = (EmbedderOptions) seen.get(1);
        assertThat(description.name()).isEqualTo("resnet56-cifar10");
        assertThat(description.model()).isEqualTo("/models/from-env.pt");
        assertThat(options.device()).isEqualTo(Device.CPU);
        assertThat(options.batchSize()).isEqualTo(16);
        assertThat(options.modelCacheDir()).isEqualTo(Path.of("/tmp/imsrc-data/models"));
    }

    @Test
    void a_bad_environment_value_stops_with_a_message_naming_the_variable(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("x.txt"), "x");

        int exit = execute(Map.of("BATCH_SIZE", "lots"), noModelExpected(), file.toString());

        assertThat(exit).isEqualTo(EmbedCommand.EXIT_USAGE);
        assertThat(err.toString()).contains("BATCH_SIZE").contains("'lots'").contains("integer from 1 to");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void an_unknown_device_option_is_a_usage_error() throws Exception {
        int exit = execute(Map.of(), noModelExpected(), "--device", "tpu", "x.png");

        assertThat(exit).isEqualTo(EmbedCommand.EXIT_USAGE);
        assertThat(err.toString()).contains("auto, cpu or cuda");
    }

    @Test
    void no_files_is_a_usage_error() {
        int exit = execute(Map.of(), noModelExpected());

        assertThat(exit).isEqualTo(EmbedCommand.EXIT_USAGE);
        assertThat(err.toString()).contains("FILE");
    }

    static List<JsonNode> jsonLines(String text) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.split("\\R")) {
            if (!line.isBlank()) {
                lines.add(json.readTree(line));
            }
        }
        return lines;
    }
}
