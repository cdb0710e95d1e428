package io.imsrc.ingest.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.config.ImsrcConfig.BatchConfig;
import io.imsrc.common.embed.Device;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.SourceKind;
import io.imsrc.ingest.admit.ImagePreparation;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.EmbeddedImage;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.testing.CifarData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The micro-batching operator with the real model, driven by Flink's operator harness. */
// "try": the harness's close() may throw InterruptedException; try-with-resources is still right.
@SuppressWarnings("try")
class BatchEmbedOperatorITCase {

    private static final int BATCH = 4;
    private static final long DELAY_MS = 100;

    @TempDir Path temp;

    private static List<AdmittedImage> images(int n, boolean labelled) throws Exception {
        ImagePreparation preparation = new ImagePreparation(IngestFixtures.resnet20(), 1 << 20, 1 << 20);
        List<AdmittedImage> images = new ArrayList<>();
        for (CifarData.Sample sample : CifarData.sample("test", 2).subList(0, n)) {
            byte[] sha = ImageId.sha256(sample.bytes());
            RawImage raw = RawImage.of(new ImageMeta(ImageId.fromSha256(sha), sha, SourceKind.FOLDER, sample.path(),
                    sample.path(), null, 0), null, sample.bytes(), RawImage.Encoding.FILE);
            images.add(preparation.prepare(raw, labelled ? sample.category() : null));
        }
        return images;
    }

    private OneInputStreamOperatorTestHarness<AdmittedImage, EmbeddedBatch> harness() throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new BatchEmbedOperator(IngestFixtures.embedding(BATCH, DELAY_MS, temp)));
    }

    @Test
    void batches_close_when_full_on_the_deadline_before_a_barrier_and_at_the_end() throws Exception {
        List<AdmittedImage> images = images(12, true);
        try (var h = harness()) {
            h.open();
            h.setProcessingTime(0);
            for (AdmittedImage image : images.subList(0, 5)) {
                h.processElement(image, 0);
            }
            assertThat(h.extractOutputValues()).extracting(EmbeddedBatch::size).containsExactly(4);

            h.setProcessingTime(DELAY_MS - 1);
            assertThat(h.extractOutputValues()).as("the fifth image waits for the deadline").hasSize(1);
            h.setProcessingTime(DELAY_MS);
            assertThat(h.extractOutputValues()).extracting(EmbeddedBatch::size).containsExactly(4, 1);

            h.processElement(images.get(5), 0);
            h.processElement(images.get(6), 0);
            h.prepareSnapshotPreBarrier(1);
            assertThat(h.extractOutputValues()).extracting(EmbeddedBatch::size).containsExactly(4, 1, 2);

            h.processElement(images.get(7), 0);
            h.endInput();
            assertThat(h.extractOutputValues()).extracting(EmbeddedBatch::size).containsExactly(4, 1, 2, 1);

            List<EmbeddedImage> embedded = h.extractOutputValues().stream().flatMap(b -> b.images().stream()).toList();
            assertThat(embedded).extracting(e -> e.meta().imageId())
                    .containsExactlyElementsOf(images.subList(0, 8).stream().map(i -> i.meta().imageId()).toList());
            assertThat(embedded).allSatisfy(e -> {
                assertThat(e.predicted()).isFalse();
                assertThat(e.confidence()).isNull();
                double norm = 0;
                for (float v : e.vector()) {
                    norm += v * v;
                }
                assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
            });
        }
    }

    @Test
    void images_without_a_category_get_the_predicted_class_and_its_confidence() throws Exception {
        List<AdmittedImage> images = images(20, false);
        try (var h = harness()) {
            h.open();
            for (AdmittedImage image : images) {
                h.processElement(image, 0);
            }
            h.endInput();
            List<EmbeddedImage> embedded = h.extractOutputValues().stream().flatMap(b -> b.images().stream()).toList();
            assertThat(embedded).hasSize(20).allSatisfy(e -> {
                assertThat(e.predicted()).isTrue();
                assertThat(e.confidence()).isBetween(0f, 1f);
            });
            // ResNet-20 gets most of these right: the sample is two test images per class, in class order.
            long right = 0;
            for (int i = 0; i < embedded.size(); i++) {
                right += embedded.get(i).category().equals(CifarData.sample("test", 2).get(i).category()) ? 1 : 0;
            }
            assertThat(right).isGreaterThanOrEqualTo(14);
        }
    }

    @Test
    void a_model_file_that_is_not_the_one_the_job_was_built_for_is_refused() throws Exception {
        EmbedSettings good = IngestFixtures.embedding(BATCH, DELAY_MS, temp);
        EmbedSettings other = new EmbedSettings(good.model(), "resnet20-cifar10-000000000000", Device.CPU,
                new BatchConfig(BATCH, DELAY_MS), 0, good.modelCacheDir());
        try (var h = new OneInputStreamOperatorTestHarness<AdmittedImage, EmbeddedBatch>(new BatchEmbedOperator(other))) {
            assertThatThrownBy(h::open).hasMessageContaining("resnet20-cifar10-000000000000")
                    .hasMessageContaining(good.modelId());
        }
    }
}
