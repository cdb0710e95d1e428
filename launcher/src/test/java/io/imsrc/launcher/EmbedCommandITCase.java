package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.testing.SharedFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command end to end on real CIFAR-10 files, with the reference ResNet-20. */
class EmbedCommandITCase {

    @TempDir
    static Path dir;

    private static final List<Path> images = new ArrayList<>();
    private static final List<String> predicted = new ArrayList<>();
    private static Embedder shared;

    @BeforeAll
    static void loadTheModel() throws Exception {
        ModelDescription description = ModelDescription.RESNET20_CIFAR10
                .withModel(SharedFiles.model("resnet20-cifar10.pt").toString());
        shared = Embedder.load(description, EmbedderOptions.builder().device(Device.CPU).build());
    }

    @AfterAll
    static void closeTheModel() {
        shared.close();
    }

    @BeforeAll
    static void writeReferenceImagesToATemporaryFolder() throws Exception {
        JsonNode reference = new ObjectMapper().readTree(SharedFiles.model("resnet20-cifar10.reference.json").toFile());
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            names.add(reference.get("images").get(i).get("image").asText());
            predicted.add(reference.get("images").get(i).get("predicted").asText());
        }
        Map<String, byte[]> files = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(), names);
        for (int i = 0; i < names.size(); i++) {
            Path file = dir.resolve(i + ".jpg");
            Files.write(file, files.get(names.get(i)));
            images.add(file);
        }
    }

    private static int execute(StringWriter out, String... args) throws Exception {
        CommandLine commandLine = new CommandLine(new EmbedCommand(Map.of(), (description, options) -> shared, false));
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(new StringWriter()));
        return commandLine.execute(args);
    }

    @Test
    void each_image_gets_a_line_with_model_id_dimension_head_and_predicted_class() throws Exception {
        StringWriter out = new StringWriter();

        int exit = execute(out, images.get(0).toString(), images.get(1).toString(), images.get(2).toString());

        assertThat(exit).isZero();
        List<JsonNode> lines = EmbedCommandTest.jsonLines(out.toString());
        assertThat(lines).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonNode line = lines.get(i);
            assertThat(line.get("file").asText()).isEqualTo(images.get(i).toString());
            assertThat(line.get("model_id").asText()).matches("resnet20-cifar10-[0-9a-f]{12}");
            assertThat(line.get("format").asText()).isEqualTo("jpeg");
            assertThat(line.get("width").asInt()).isEqualTo(32);
            assertThat(line.get("dimension").asInt()).isEqualTo(64);
            assertThat(line.get("embedding_head")).hasSize(8);
            assertThat(line.get("predicted").asText()).isEqualTo(predicted.get(i));
            assertThat(line.get("confidence").asDouble()).isBetween(0.0, 1.0);
        }
    }

    @Test
    void a_bad_file_among_good_ones_fails_alone_and_every_line_keeps_its_order_across_batches() throws Exception {
        Path text = Files.writeString(dir.resolve("readme.png"), "not an image");
        StringWriter out = new StringWriter();

        int exit = execute(out, "--batch-size", "2", images.get(0).toString(), text.toString(),
                images.get(1).toString(), images.get(2).toString());

        assertThat(exit).isEqualTo(EmbedCommand.EXIT_SOME_FAILED);
        List<JsonNode> lines = EmbedCommandTest.jsonLines(out.toString());
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0).get("predicted").asText()).isEqualTo(predicted.get(0));
        assertThat(lines.get(1).get("file").asText()).isEqualTo(text.toString());
        assertThat(lines.get(1).at("/error/reason").asText()).isEqualTo("NOT_AN_IMAGE");
        assertThat(lines.get(2).get("predicted").asText()).isEqualTo(predicted.get(1));
        assertThat(lines.get(3).get("predicted").asText()).isEqualTo(predicted.get(2));
    }

    @Test
    void full_prints_the_whole_unit_length_embedding() throws Exception {
        StringWriter out = new StringWriter();

        execute(out, "--full", images.get(0).toString());

        JsonNode embedding = EmbedCommandTest.jsonLines(out.toString()).get(0).get("embedding");
        assertThat(embedding).hasSize(64);
        double norm = 0;
        for (JsonNode v : embedding) {
            norm += v.asDouble() * v.asDouble();
        }
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
    }
}
