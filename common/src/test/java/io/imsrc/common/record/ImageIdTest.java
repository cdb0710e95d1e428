package io.imsrc.common.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ImageIdTest {

    @Test
    void the_id_is_the_first_eight_bytes_of_the_sha256_without_the_sign_bit() {
        // sha256("abc") = ba7816bf8f01cfea 414140de5dae2223 b00361a396177a9c b410ff61f20015ad
        byte[] hash = ImageId.sha256("abc".getBytes(StandardCharsets.US_ASCII));
        assertThat(HexFormat.of().formatHex(hash))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(ImageId.fromSha256(hash)).isEqualTo(0x3a7816bf8f01cfeaL);
        assertThat(ImageId.of("abc".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0x3a7816bf8f01cfeaL);
    }

    @Test
    void ids_are_always_positive() {
        byte[] allOnes = new byte[32];
        Arrays.fill(allOnes, (byte) 0xFF);
        assertThat(ImageId.fromSha256(allOnes)).isEqualTo(Long.MAX_VALUE);
        byte[] signBitOnly = new byte[32];
        signBitOnly[0] = (byte) 0x80;
        assertThat(ImageId.fromSha256(signBitOnly)).isEqualTo(1);
    }

    @Test
    void a_slice_hashes_like_a_copy_of_it() {
        byte[] record = "Lpixels".getBytes(StandardCharsets.US_ASCII);
        assertThat(ImageId.sha256(record, 1, 6)).isEqualTo(ImageId.sha256("pixels".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void only_sha256_digests_are_accepted() {
        assertThatThrownBy(() -> ImageId.fromSha256(new byte[16])).isInstanceOf(IllegalArgumentException.class);
    }
}
