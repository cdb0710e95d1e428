package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelIdTest {

    @Test
    void the_id_is_the_name_a_dash_and_the_first_twelve_hex_digits_of_the_sha256(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.pt");
        Files.write(file, "abc".getBytes(StandardCharsets.US_ASCII));

        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assertThat(ModelId.forFile("resnet20-cifar10", file).value()).isEqualTo("resnet20-cifar10-ba7816bf8f01");
    }

    @Test
    void a_changed_file_under_the_same_name_gets_another_id(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.pt");
        Files.writeString(file, "one");
        ModelId before = ModelId.forFile("m", file);
        Files.writeString(file, "two");

        assertThat(ModelId.forFile("m", file)).isNotEqualTo(before);
    }
}
