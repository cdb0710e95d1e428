package io.imsrc.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the configured model is looked for, and what a user is told when it is not there. */
class ConfiguredModelTest {

    @TempDir Path temp;

    private ImsrcConfig config(Map<String, String> env) {
        return ImsrcConfig.from(Settings.of(env));
    }

    @Test
    void the_default_model_resolves_from_the_class_path_into_the_data_directory() throws Exception {
        Path data = temp.resolve("data");
        ConfiguredModel model = ConfiguredModel.resolve(config(Map.of("DATA_DIR", data.toString())));
        assertThat(model.description()).isEqualTo(ModelDescription.DEFAULT);
        assertThat(model.description().model()).startsWith("classpath:");
        assertThat(model.modelId().value()).startsWith(ModelDescription.DEFAULT.name() + "-");
        Path unpacked = data.resolve("models").resolve(ModelDescription.DEFAULT.name() + ".params").toAbsolutePath();
        assertThat(unpacked).isRegularFile();
        assertThat(ModelId.forFile(ModelDescription.DEFAULT.name(), unpacked)).isEqualTo(model.modelId());

        // A damaged copy is replaced; a good one is kept as it is.
        Files.write(unpacked, new byte[] {1, 2, 3});
        assertThat(ConfiguredModel.resolve(config(Map.of("DATA_DIR", data.toString()))).modelId())
                .isEqualTo(model.modelId());
        assertThat(ModelId.forFile(ModelDescription.DEFAULT.name(), unpacked)).isEqualTo(model.modelId());
    }

    @Test
    void an_unknown_name_lists_the_built_in_and_the_trained_models_and_resnet50_says_why_it_is_missing()
            throws Exception {
        Path trained = Files.createDirectories(temp.resolve("models/pets"));
        Files.writeString(trained.resolve("pets.json"), "{}");
        assertThatThrownBy(() -> ConfiguredModel.resolve(config(Map.of("DATA_DIR", temp.toString(), "MODEL_NAME", "cats"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown model 'cats'")
                .hasMessageContaining("imsrc-resnet20-cifar10, resnet18, resnet20-cifar10, resnet56-cifar10")
                .hasMessageContaining("trained in " + temp.resolve("models").toAbsolutePath() + ": pets");
        assertThatThrownBy(() -> ConfiguredModel.resolve(config(Map.of("DATA_DIR", temp.toString(), "MODEL_NAME", "resnet50"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no ResNet-50 feature extractor")
                .hasMessageContaining("Your own model");
    }

    @Test
    void a_torchscript_model_path_with_the_trained_default_is_refused_with_what_to_set() {
        assertThatThrownBy(() -> ConfiguredModel.resolve(config(Map.of(
                        "DATA_DIR", temp.toString(), "MODEL_PATH", "/models/resnet20-cifar10.pt"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MODEL_PATH /models/resnet20-cifar10.pt looks like a TorchScript file")
                .hasMessageContaining("set MODEL_NAME");
    }

    @Test
    void a_built_in_model_without_model_path_is_looked_for_in_the_data_directory() throws Exception {
        Path data = temp.resolve("data");
        assertThatThrownBy(() -> ConfiguredModel.resolve(config(Map.of("DATA_DIR", data.toString(),
                        "MODEL_NAME", "resnet20-cifar10"))))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no model file at " + data.resolve("models/resnet20-cifar10.pt").toAbsolutePath())
                .hasMessageContaining("set MODEL_PATH");

        Files.createDirectories(data.resolve("models"));
        Files.write(data.resolve("models/resnet20-cifar10.pt"), new byte[] {1, 2, 3});
        ConfiguredModel model = ConfiguredModel.resolve(config(Map.of("DATA_DIR", data.toString(),
                "MODEL_NAME", "resnet20-cifar10")));
        assertThat(model.description().model()).isEqualTo(data.resolve("models/resnet20-cifar10.pt").toAbsolutePath().toString());
        assertThat(model.modelId().value()).startsWith("resnet20-cifar10-");
    }

    @Test
    void model_name_may_be_a_description_file_whose_model_sits_beside_it() throws Exception {
        Path folder = Files.createDirectories(temp.resolve("own-model"));
        Files.write(folder.resolve("mine.pt"), new byte[] {4, 5, 6});
        Path description = folder.resolve("mine.json");
        Files.writeString(description, "{\"name\": \"mine\", \"model\": \"mine.pt\", \"inputWidth\": 224, "
                + "\"inputHeight\": 224, \"embeddingOutput\": 0}");
        ConfiguredModel model = ConfiguredModel.resolve(config(Map.of(
                "DATA_DIR", temp.toString(), "MODEL_NAME", description.toString())));
        assertThat(model.description().name()).isEqualTo("mine");
        assertThat(model.description().inputWidth()).isEqualTo(224);
        assertThat(model.description().model()).isEqualTo(folder.resolve("mine.pt").toAbsolutePath().toString());
        assertThat(model.modelId().value()).startsWith("mine-");
    }

    @Test
    void a_missing_model_path_names_the_file_the_place_and_the_variable() {
        Path missing = temp.resolve("nowhere/model.pt");
        assertThatThrownBy(() -> ConfiguredModel.resolve(config(Map.of(
                        "DATA_DIR", temp.toString(), "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", missing.toString()))))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no model file at " + missing)
                .hasMessageContaining(temp.resolve("models/resnet20-cifar10.pt").toAbsolutePath().toString())
                .hasMessageContaining("MODEL_PATH");
    }

    @Test
    void a_model_url_that_cannot_be_downloaded_names_the_url_and_the_way_out() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/models/resnet20-cifar10.pt";
            assertThatThrownBy(() -> ConfiguredModel.resolve(config(Map.of("DATA_DIR", temp.toString(),
                            "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", url))))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot download the model " + url)
                    .hasMessageContaining("404")
                    .hasMessageContaining("MODEL_PATH");
        } finally {
            server.stop(0);
        }
    }
}
