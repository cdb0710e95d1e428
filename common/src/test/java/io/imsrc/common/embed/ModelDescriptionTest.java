package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageFormat;
import io.imsrc.common.image.ImageInfo;
import io.imsrc.testing.CifarData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDescriptionTest {

    @Test
    void the_cifar10_labels_are_the_data_sets_classes_in_its_order() {
        // Test data labels CIFAR-10 records with the index of its own class list.
        assertThat(ModelDescription.CIFAR10_LABELS).isEqualTo(CifarData.CLASSES);
    }

    @Test
    void the_default_is_the_trained_resnet20_imsrc_ships_on_its_class_path() {
        ModelDescription shipped = ModelDescription.DEFAULT;
        assertThat(shipped.name()).isEqualTo("imsrc-resnet20-cifar10");
        assertThat(ModelDescription.builtIn("imsrc-resnet20-cifar10")).isEqualTo(shipped);
        assertThat(shipped.isBundled()).isTrue();
        assertThat(shipped.model()).isEqualTo(
                "classpath:io/imsrc/common/embed/models/imsrc-resnet20-cifar10/imsrc-resnet20-cifar10.params");
        assertThat(shipped.architecture()).isEqualTo(ModelArchitecture.cifarResnet(20, 16, 16f));
        assertThat(shipped.inputWidth()).isEqualTo(32);
        assertThat(shipped.normalization().isInsideModel()).isTrue();
        assertThat(shipped.labels()).isEqualTo(ModelDescription.CIFAR10_LABELS);
        assertThat(ModelDescription.class.getClassLoader().getResource(shipped.model().substring("classpath:".length())))
                .isNotNull();
    }

    @Test
    void the_built_in_torchscript_resnets_name_a_bare_file() {
        ModelDescription resnet20 = ModelDescription.builtIn("resnet20-cifar10");

        assertThat(resnet20.model()).isEqualTo("resnet20-cifar10.pt");
        assertThat(resnet20.inputWidth()).isEqualTo(32);
        assertThat(resnet20.inputHeight()).isEqualTo(32);
        assertThat(resnet20.normalization().isInsideModel()).isTrue();
        assertThat(resnet20.embeddingOutput()).isZero();
        assertThat(resnet20.logitsOutput()).isEqualTo(1);
        assertThat(resnet20.labels()).containsExactly(
                "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
        assertThat(ModelDescription.builtIn("resnet56-cifar10").model()).isEqualTo("resnet56-cifar10.pt");
    }

    @Test
    void a_description_file_keeps_a_zoo_or_class_path_model_as_it_is(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("r.json");
        Files.writeString(file, "{\"name\": \"r\", \"model\": \"djl://ai.djl.pytorch/resnet18_embedding\", "
                + "\"inputWidth\": 224, \"inputHeight\": 224}");
        assertThat(ModelDescription.fromJson(file).model()).isEqualTo("djl://ai.djl.pytorch/resnet18_embedding");
        Files.writeString(file, "{\"name\": \"r\", \"model\": \"classpath:a/b.params\", "
                + "\"inputWidth\": 32, \"inputHeight\": 32}");
        assertThat(ModelDescription.fromJson(file).model()).isEqualTo("classpath:a/b.params");
    }

    @Test
    void an_unknown_built_in_name_lists_the_known_ones() {
        assertThatThrownBy(() -> ModelDescription.builtIn("resnet1000"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("resnet20-cifar10, resnet56-cifar10");
    }

    @Test
    void a_description_file_loads_and_its_relative_model_path_resolves_against_its_folder(@TempDir Path dir)
            throws IOException {
        Path file = dir.resolve("mine.json");
        Files.writeString(file, """
                {"name": "mine", "model": "weights/mine.pt", "inputWidth": 64, "inputHeight": 48,
                 "normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                 "embeddingOutput": 1}
                """);

        ModelDescription description = ModelDescription.fromJson(file);

        assertThat(description.name()).isEqualTo("mine");
        assertThat(description.model()).isEqualTo(dir.resolve("weights/mine.pt").toAbsolutePath().toString());
        assertThat(description.inputWidth()).isEqualTo(64);
        assertThat(description.normalization().isInsideModel()).isFalse();
        assertThat(description.hasLogits()).isFalse();
        assertThat(description.labels()).isEmpty();
    }

    @Test
    void a_url_model_location_is_kept_as_it_is() throws IOException {
        ModelDescription description = ModelDescription.fromJson("""
                {"name": "remote", "model": "https://example.org/m.pt", "inputWidth": 32, "inputHeight": 32,
                 "normalization": {"insideModel": true}, "embeddingOutput": 0}
                """);

        assertThat(description.isUrl()).isTrue();
        assertThat(description.model()).isEqualTo("https://example.org/m.pt");
    }

    @Test
    void the_built_in_descriptions_round_trip_through_json() throws IOException {
        for (ModelDescription builtIn : new ModelDescription[] {
            ModelDescription.RESNET20_CIFAR10, ModelDescription.RESNET56_CIFAR10
        }) {
            assertThat(ModelDescription.fromJson(builtIn.toJson())).isEqualTo(builtIn);
        }
    }

    @Test
    void a_misspelt_field_is_an_error_not_silently_ignored() {
        assertThatThrownBy(() -> ModelDescription.fromJson("""
                {"name": "x", "model": "x.pt", "inputWidth": 32, "inputHeight": 32, "embeddingOuptut": 0}
                """))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("embeddingOuptut");
    }

    @Test
    void logits_without_labels_and_labels_without_logits_are_refused() {
        assertThatThrownBy(() -> new ModelDescription("x", "x.pt", 32, 32, null, 0, 1, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("labels");
        assertThatThrownBy(() -> new ModelDescription("x", "x.pt", 32, 32, null, 0, null, java.util.List.of("a"), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("logitsOutput");
    }

    @Test
    void preprocessing_applies_the_mean_and_std_of_a_model_that_does_not_normalise_itself() {
        ModelDescription description = new ModelDescription("x", "x.pt", 1, 1,
                Normalization.of(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.25f, 1f}), 0, null, null, null);
        DecodedImage white = new DecodedImage(new ImageInfo(ImageFormat.PNG, 1, 1), new byte[] {-1, -1, -1});

        float[] input = description.preprocess(white);

        assertThat(input).containsExactly(1f, 2f, 0.5f);
    }

    @Test
    void preprocessing_stops_at_the_unit_interval_when_the_model_normalises_itself() {
        DecodedImage white = new DecodedImage(new ImageInfo(ImageFormat.PNG, 32, 32), filled(3 * 32 * 32, (byte) -1));

        float[] input = ModelDescription.RESNET20_CIFAR10.preprocess(white);

        assertThat(input).hasSize(3 * 32 * 32).containsOnly(1f);
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, value);
        return bytes;
    }
}
