package io.imsrc.ingest.admit;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.DeadLetter;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.PrototypeDelta;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.testing.TestImages;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

// "try": the harnesses' close() may throw InterruptedException; try-with-resources is still right.
@SuppressWarnings("try")
class ImageAdmissionOperatorTest {

    private static final ImagePreparation PREPARATION =
            new ImagePreparation(ModelDescription.RESNET20_CIFAR10, 1_000_000, 1_000_000);

    private static byte[] image(long seed) throws Exception {
        return TestImages.encode(TestImages.noise(32, 32, seed), "png");
    }

    private static RawImage raw(byte[] bytes, SourceKind source, String label) {
        byte[] sha = ImageId.sha256(bytes);
        return RawImage.of(new ImageMeta(ImageId.fromSha256(sha), sha, source, "key-" + ImageId.of(bytes), "n", null, 0),
                label, bytes, RawImage.Encoding.FILE);
    }

    /** The same id as {@code bytes}, other bytes: what a SHA-256 prefix collision would look like. */
    private static RawImage impostor(byte[] bytes, byte[] other) {
        return RawImage.of(new ImageMeta(ImageId.of(bytes), ImageId.sha256(other), SourceKind.FOLDER, "impostor", "n",
                null, 0), "cat", other, RawImage.Encoding.FILE);
    }

    private static KeyedOneInputStreamOperatorTestHarness<Long, RawImage, AdmittedImage> harness(
            AdmissionBootstrap bootstrap) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new ImageAdmissionOperator(PREPARATION, bootstrap),
                raw -> raw.meta().imageId(), Types.LONG);
    }

    private static <T> List<T> side(KeyedOneInputStreamOperatorTestHarness<Long, RawImage, AdmittedImage> h,
            org.apache.flink.util.OutputTag<T> tag) {
        List<T> out = new ArrayList<>();
        var records = h.getSideOutput(tag);
        if (records != null) {
            records.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    @Test
    void stored_images_are_not_admitted_twice_and_their_sums_go_to_the_prototypes() throws Exception {
        byte[] stored = image(1);
        byte[] storedWithoutVector = image(2);
        byte[] fresh = image(3);
        float[] vector = {0.6f, 0.8f};
        AdmissionBootstrap bootstrap = (share, visitor) -> {
            visitor.visit(new AdmissionBootstrap.StoredImage(ImageId.of(stored), ImageId.sha256(stored), "cat", vector));
            visitor.visit(new AdmissionBootstrap.StoredImage(ImageId.of(storedWithoutVector),
                    ImageId.sha256(storedWithoutVector), "dog", null));
        };

        try (var h = harness(bootstrap)) {
            h.open();
            h.processElement(raw(stored, SourceKind.FOLDER, "cat"), 0);
            h.processElement(raw(stored, SourceKind.UPLOAD, null), 0);
            h.processElement(raw(storedWithoutVector, SourceKind.FOLDER, "frog"), 0);
            h.processElement(raw(fresh, SourceKind.FOLDER, "ship"), 0);
            h.processElement(raw(fresh, SourceKind.FOLDER, "ship"), 0);
            h.processElement(impostor(stored, image(4)), 0);

            assertThat(h.extractOutputValues()).extracting(AdmittedImage::category).containsExactly("dog", "ship");
            assertThat(side(h, ImageAdmissionOperator.DUPLICATE_UPLOADS)).extracting(ImageMeta::imageId)
                    .containsExactly(ImageId.of(stored));
            assertThat(side(h, ImageAdmissionOperator.DEAD_LETTERS)).extracting(DeadLetter::reason)
                    .containsExactly(Rejection.HASH_COLLISION);
            List<PrototypeDelta> sums = side(h, ImageAdmissionOperator.STORED_PROTOTYPES);
            assertThat(sums).hasSize(1);
            assertThat(sums.get(0).category()).isEqualTo("cat");
            assertThat(sums.get(0).count()).isEqualTo(1);
            assertThat(sums.get(0).sum()).containsExactly(0.6f, 0.8f);
        }
    }

    @Test
    void bad_images_are_dead_letters_and_the_stream_goes_on() throws Exception {
        try (var h = harness(AdmissionBootstrap.none())) {
            h.open();
            h.processElement(raw("not an image".getBytes(), SourceKind.FOLDER, "cat"), 0);
            h.processElement(RawImage.rejected(new ImageMeta(0, null, SourceKind.FOLDER, "big", "big.jpg", null, 0),
                    Rejection.TOO_LARGE, "too large"), 0);
            h.processElement(raw(image(9), SourceKind.FOLDER, "cat"), 0);

            assertThat(side(h, ImageAdmissionOperator.DEAD_LETTERS)).extracting(DeadLetter::reason)
                    .containsExactly(Rejection.NOT_AN_IMAGE, Rejection.TOO_LARGE);
            assertThat(h.extractOutputValues()).hasSize(1);
            assertThat(side(h, ImageAdmissionOperator.STORED_PROTOTYPES)).isEmpty();
        }
    }

    @Test
    void a_restored_operator_remembers_what_it_admitted_and_does_not_read_the_store_again() throws Exception {
        byte[] first = image(21);
        OperatorSubtaskState snapshot;
        try (var h = harness(AdmissionBootstrap.none())) {
            h.open();
            h.processElement(raw(first, SourceKind.FOLDER, "cat"), 0);
            snapshot = h.snapshot(1, 1);
        }
        AdmissionBootstrap mustNotRun = (share, visitor) -> {
            throw new AssertionError("a restored operator must not bootstrap");
        };
        try (var h = harness(mustNotRun)) {
            h.initializeState(snapshot);
            h.open();
            h.processElement(raw(first, SourceKind.FOLDER, "cat"), 0);
            h.processElement(raw(image(22), SourceKind.FOLDER, "cat"), 0);
            assertThat(h.extractOutputValues()).hasSize(1);
        }
    }

    @Test
    void the_stored_sums_go_out_before_a_checkpoint_barrier_even_without_records() throws Exception {
        byte[] stored = image(31);
        AdmissionBootstrap bootstrap = (share, visitor) -> visitor.visit(new AdmissionBootstrap.StoredImage(ImageId.of(stored),
                ImageId.sha256(stored), "cat", new float[] {1f}));
        try (var h = harness(bootstrap)) {
            h.open();
            assertThat(side(h, ImageAdmissionOperator.STORED_PROTOTYPES)).isEmpty();
            h.prepareSnapshotPreBarrier(1);
            assertThat(side(h, ImageAdmissionOperator.STORED_PROTOTYPES)).hasSize(1);
            h.prepareSnapshotPreBarrier(2);
            assertThat(side(h, ImageAdmissionOperator.STORED_PROTOTYPES)).as("only once").hasSize(1);
        }
    }

    @Test
    void a_subtask_asks_for_its_key_groups_and_keeps_only_their_images_whatever_it_is_given() throws Exception {
        int maxParallelism = 128;
        List<AdmissionBootstrap.KeyGroups> asked = new ArrayList<>();
        AdmissionBootstrap everything = (share, visitor) -> {
            asked.add(share);
            for (long id = 1; id <= 400; id++) { // passes every image, as a bootstrap that cannot select may
                visitor.visit(new AdmissionBootstrap.StoredImage(id, new byte[32], "cat", new float[] {1f}));
            }
        };
        long ofSecondHalf = java.util.stream.LongStream.rangeClosed(1, 400)
                .filter(id -> KeyGroupRangeAssignment.assignToKeyGroup(id, maxParallelism) >= 64).count();
        assertThat(ofSecondHalf).as("both halves have images").isBetween(100L, 300L);

        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new ImageAdmissionOperator(PREPARATION, everything),
                (RawImage raw) -> raw.meta().imageId(), Types.LONG, maxParallelism, 2, 1)) {
            h.open();
            h.prepareSnapshotPreBarrier(1);

            assertThat(asked).containsExactly(new AdmissionBootstrap.KeyGroups(maxParallelism, 64, 127));
            List<PrototypeDelta> sums = side(h, ImageAdmissionOperator.STORED_PROTOTYPES);
            assertThat(sums).hasSize(1);
            assertThat(sums.get(0).count()).isEqualTo(ofSecondHalf);
        }
    }
}
