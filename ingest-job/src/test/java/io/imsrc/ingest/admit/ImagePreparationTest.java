package io.imsrc.ingest.admit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.Normalization;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.format.CifarPixels;
import io.imsrc.testing.TestImages;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ImagePreparationTest {

    private static final ImagePreparation PREPARATION =
            new ImagePreparation(ModelDescription.RESNET20_CIFAR10, 100_000, 1_000_000);

    private static RawImage raw(byte[] bytes, RawImage.Encoding encoding) {
        byte[] sha = ImageId.sha256(bytes);
        return RawImage.of(new ImageMeta(ImageId.fromSha256(sha), sha, SourceKind.FOLDER, "k", "x", null, 0), null, bytes,
                encoding);
    }

    private static Rejection rejection(RawImage raw, String category) {
        try {
            PREPARATION.prepare(raw, category);
            throw new AssertionError("expected a rejection");
        } catch (RejectedImageException e) {
            assertThat(e.getMessage()).isNotBlank();
            return e.reason();
        }
    }

    @Test
    void a_file_keeps_its_bytes_and_gets_the_model_input() throws Exception {
        byte[] png = TestImages.encode(TestImages.noise(64, 48, 3), "png");

        AdmittedImage image = PREPARATION.prepare(raw(png, RawImage.Encoding.FILE), "cat");

        assertThat(image.stored().data()).isSameAs(png);
        assertThat(image.stored().format()).isEqualTo("png");
        assertThat(image.stored().width()).isEqualTo(64);
        assertThat(image.stored().height()).isEqualTo(48);
        assertThat(image.category()).isEqualTo("cat");
        assertThat(image.modelInput()).hasSize(3 * 32 * 32)
                .isEqualTo(ModelDescription.RESNET20_CIFAR10.preprocess(ImageDecoder.decode(png)));
    }

    @Test
    void cifar_pixels_are_stored_as_png_and_fed_to_the_model_as_they_are() throws Exception {
        byte[] planes = new byte[CifarPixels.BYTES];
        new Random(5).nextBytes(planes);

        AdmittedImage image = PREPARATION.prepare(raw(planes, RawImage.Encoding.CIFAR_PIXELS), "ship");

        assertThat(image.stored().format()).isEqualTo("png");
        var decoded = ImageDecoder.decode(image.stored().data());
        assertThat(decoded.rgbAt(3, 2)).isEqualTo(
                (planes[2 * 32 + 3] & 0xFF) << 16 | (planes[1024 + 2 * 32 + 3] & 0xFF) << 8 | planes[2048 + 2 * 32 + 3] & 0xFF);
        float[] input = image.modelInput();
        for (int i = 0; i < planes.length; i++) {
            assertThat(input[i]).isEqualTo((planes[i] & 0xFF) / 255f);
        }
    }

    @Test
    void bad_images_and_categories_are_refused_with_their_reason() throws Exception {
        assertThat(rejection(raw("hello".getBytes(StandardCharsets.UTF_8), RawImage.Encoding.FILE), null))
                .isEqualTo(Rejection.NOT_AN_IMAGE);
        assertThat(rejection(raw(new byte[0], RawImage.Encoding.FILE), null)).isEqualTo(Rejection.EMPTY);
        assertThat(rejection(raw(new byte[100_001], RawImage.Encoding.FILE), null)).isEqualTo(Rejection.TOO_LARGE);
        byte[] blank = TestImages.encode(new BufferedImage(1001, 1000, BufferedImage.TYPE_INT_RGB), "png");
        assertThat(blank.length).isLessThan(100_000);
        assertThat(rejection(raw(blank, RawImage.Encoding.FILE), null)).isEqualTo(Rejection.TOO_MANY_PIXELS);
        assertThat(rejection(raw(new byte[3000], RawImage.Encoding.CIFAR_PIXELS), null)).isEqualTo(Rejection.CORRUPT);
        byte[] png = TestImages.encode(TestImages.noise(8, 8, 2), "png");
        assertThat(rejection(raw(png, RawImage.Encoding.FILE), " ")).isEqualTo(Rejection.INVALID_CATEGORY);
        assertThat(rejection(raw(png, RawImage.Encoding.FILE), "x".repeat(201))).isEqualTo(Rejection.INVALID_CATEGORY);
        assertThat(rejection(raw(png, RawImage.Encoding.FILE), "tab\there")).isEqualTo(Rejection.INVALID_CATEGORY);
    }

    @Test
    void an_unlabelled_image_needs_a_model_that_can_predict() throws Exception {
        ModelDescription noClassifier = new ModelDescription("plain", "plain.pt", 32, 32, Normalization.INSIDE_MODEL, 0,
                null, null, null);
        ImagePreparation preparation = new ImagePreparation(noClassifier, 100_000, 1_000_000);
        RawImage image = raw(TestImages.encode(TestImages.noise(8, 8, 2), "png"), RawImage.Encoding.FILE);

        assertThatThrownBy(() -> preparation.prepare(image, null))
                .isInstanceOfSatisfying(RejectedImageException.class, e -> assertThat(e.reason()).isEqualTo(Rejection.NO_CATEGORY));
        assertThat(preparation.prepare(image, "mine").category()).isEqualTo("mine");
    }
}
