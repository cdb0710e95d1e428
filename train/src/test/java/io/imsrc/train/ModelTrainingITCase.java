package io.imsrc.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.network.CosineEmbeddingNetwork;
import io.imsrc.common.embed.network.Networks;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.image.ImagePreprocessor;
import io.imsrc.common.record.ImageId;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import io.imsrc.train.dataset.TrainingDataException;
import io.imsrc.train.loop.EpochStats;
import io.imsrc.train.loop.TrainingLoop;
import io.imsrc.train.loop.TrainingProgress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imsrc train}'s run on a small labelled folder of real CIFAR-10 images, with the real
 * PyTorch engine: determinism for a seed, a falling loss, a saved model that the embedder loads
 * back to the same predictions, a stopped run that resumes to exactly the model of an uninterrupted
 * one, the library as a source of labels, and bad input refused before anything is written. One
 * PyTorch thread, so that runs can be compared bit for bit.
 */
class ModelTrainingITCase {

    private static final int PER_CLASS = 24;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static Path folder;
    private static ModelTraining.Result reference;
    private static Path referenceModels;

    @TempDir
    Path temp;

    static TrainOptions small(String name, String source) {
        return TrainOptions.builder()
                .name(name)
                .sources(List.of(source))
                .library(false)
                .holdoutFraction(0.25)
                .epochs(3)
                .batchSize(32)
                .learningRate(0.05f)
                .warmupEpochs(1)
                .seed(7)
                .threads(1)
                .build();
    }

    static ModelTraining training(Path modelsDir, TrainingProgress progress) {
        return new ModelTraining(new ModelTraining.Environment(modelsDir, modelsDir.resolveSibling("cache"),
                10_000_000, 40_000_000, Device.cpu()), progress);
    }

    @BeforeAll
    static void trainReference() throws Exception {
        folder = CifarData.writeFolder(shared.resolve("images"), CifarData.asFiles(CifarData.sample("train", PER_CLASS)));
        referenceModels = shared.resolve("a").resolve("models");
        reference = training(referenceModels, TrainingProgress.SILENT)
                .train(small("tiny", source()), false, null);
    }

    private static String source() {
        return folder + "#cifar-10-jpg/train";
    }

    @Test
    void a_run_writes_a_model_whose_loss_fell_and_that_the_embedder_loads_to_the_same_predictions() throws Exception {
        assertThat(reference.outcome()).isEqualTo(TrainingLoop.Outcome.FINISHED);
        Path dir = referenceModels.resolve("tiny");
        assertThat(dir.resolve("tiny.params")).isRegularFile();
        assertThat(dir.resolve("tiny.json")).isEqualTo(reference.description());
        assertThat(dir.resolve("checkpoint")).doesNotExist();
        List<EpochStats> epochs = reference.metrics().epochs();
        assertThat(epochs).hasSize(3);
        assertThat(epochs.get(2).loss()).isLessThan(epochs.get(0).loss());

        // The held-out accuracy measured in training (the network in memory) is the one measured
        // with the saved file through the embedder (its folded inference form may round a
        // borderline image the other way, no more).
        TrainingMetrics metrics = reference.metrics();
        assertThat(metrics.heldOutAccuracy())
                .isCloseTo(epochs.get(2).heldOutAccuracy(), within(1.0 / metrics.heldOutImages() + 1e-9));
        assertThat(metrics.trainImages() + metrics.heldOutImages()).isEqualTo(10 * PER_CLASS);
        assertThat(metrics.heldOutImages()).isBetween(30, 90);
        assertThat(metrics.classes()).isEqualTo(ModelDescription.CIFAR10_LABELS);
        assertThat(metrics.precisionAt10()).isBetween(0.0, 1.0);
        JsonNode written = JSON.readTree(dir.resolve("tiny.metrics.json").toFile());
        assertThat(written.get("modelId").asText()).isEqualTo(metrics.modelId()).startsWith("tiny-");
        assertThat(written.at("/options/seed").asLong()).isEqualTo(7);

        // The description is ready for MODEL_NAME: 64-d embeddings and the ten classes.
        ModelDescription description = ModelDescription.fromJson(reference.description());
        assertThat(description.architecture()).isEqualTo(small("tiny", source()).architecture());
        try (Embedder a = Embedder.load(description, EmbedderOptions.builder()
                        .device(io.imsrc.common.embed.Device.CPU).modelCacheDir(temp).build());
                Embedder b = Embedder.load(description, EmbedderOptions.builder()
                        .device(io.imsrc.common.embed.Device.CPU).modelCacheDir(temp).build())) {
            assertThat(a.dimension()).isEqualTo(64);
            assertThat(a.modelId().value()).isEqualTo(metrics.modelId());
            byte[] jpeg = Files.readAllBytes(folder.resolve("cifar-10-jpg/train/cat/0001.jpg"));
            var image = ImageDecoder.decode(jpeg);
            float[] one = a.embedImages(List.of(image)).get(0).vector();
            float[] two = b.embedImages(List.of(image)).get(0).vector();
            assertThat(one).containsExactly(two);
            double norm = 0;
            for (float v : one) {
                norm += v * v;
            }
            assertThat(norm).isCloseTo(1.0, within(1e-5));
            assertThat(ImagePreprocessor.toChw(image, 32, 32)).hasSize(3 * 32 * 32);

            // The saved parameters in the network as trained give the embedder's embedding.
            try (Model model = Model.newInstance("tiny", ai.djl.Device.cpu(), "PyTorch");
                    InputStream in = Files.newInputStream(Path.of(description.model()))) {
                CosineEmbeddingNetwork network = Networks.build(description.architecture(), 10);
                model.setBlock(network);
                model.load(in);
                NDArray x = model.getNDManager().create(ImagePreprocessor.toChw(image, 32, 32), new Shape(1, 3, 32, 32));
                float[] trained = network.forward(new ParameterStore(model.getNDManager(), false), new NDList(x), false)
                        .get(0).toFloatArray();
                for (int d = 0; d < trained.length; d++) {
                    assertThat(one[d]).isCloseTo(trained[d], within(1e-4f));
                }
            }
        }
    }

    @Test
    void the_same_seed_and_data_give_the_same_model() throws Exception {
        Path models = temp.resolve("models");
        ModelTraining.Result again = training(models, TrainingProgress.SILENT).train(small("tiny", source()), false, null);
        assertThat(again.metrics().epochs()).extracting(EpochStats::loss)
                .containsExactlyElementsOf(reference.metrics().epochs().stream().map(EpochStats::loss).toList());
        assertThat(Files.mismatch(models.resolve("tiny/tiny.params"), referenceModels.resolve("tiny/tiny.params")))
                .isEqualTo(-1L);
        assertThat(again.metrics().modelId()).isEqualTo(reference.metrics().modelId());
    }

    @Test
    void a_stopped_run_resumes_where_it_stopped_and_ends_with_the_model_of_an_uninterrupted_run() throws Exception {
        Path models = temp.resolve("models");
        List<String> notes = new ArrayList<>();
        ModelTraining[] holder = new ModelTraining[1];
        TrainingProgress stopInEpochTwo = new Recording(notes) {
            @Override
            public void batch(int epoch, int batch, int batches, double loss, double accuracy, double imagesPerSecond,
                    double secondsLeft) {
                if (epoch == 2 && batch == 2) {
                    holder[0].requestStop(); // as Ctrl-C does, from another thread
                }
            }
        };
        holder[0] = training(models, stopInEpochTwo);
        ModelTraining.Result stopped = holder[0].train(small("tiny", source()), false, null);
        assertThat(stopped.outcome()).isEqualTo(TrainingLoop.Outcome.STOPPED);
        assertThat(models.resolve("tiny/checkpoint/state.json")).isRegularFile();
        assertThat(models.resolve("tiny/tiny.params")).doesNotExist();

        // A new run of the same name is refused while the checkpoint waits for --resume.
        assertThatThrownBy(() -> training(models, TrainingProgress.SILENT).train(small("tiny", source()), false, null))
                .isInstanceOf(TrainingDataException.class).hasMessageContaining("--resume");

        // --resume takes the checkpoint's settings, whatever the options passed.
        List<String> resumedNotes = new ArrayList<>();
        TrainOptions other = small("tiny", source()).toBuilder().seed(99).epochs(9).build();
        ModelTraining.Result resumed = training(models, new Recording(resumedNotes)).train(other, true, null);
        assertThat(resumed.outcome()).isEqualTo(TrainingLoop.Outcome.FINISHED);
        assertThat(resumedNotes).anyMatch(n -> n.startsWith("resuming at epoch 2, batch 3 of"));
        assertThat(Files.mismatch(models.resolve("tiny/tiny.params"), referenceModels.resolve("tiny/tiny.params")))
                .as("the resumed run's parameters are bit for bit those of the uninterrupted run").isEqualTo(-1L);
        assertThat(resumed.metrics().epochs()).extracting(EpochStats::loss)
                .containsExactlyElementsOf(reference.metrics().epochs().stream().map(EpochStats::loss).toList());
        assertThat(models.resolve("tiny/checkpoint")).doesNotExist();

        // A finished model's name is taken; resuming it has nothing to resume.
        assertThatThrownBy(() -> training(models, TrainingProgress.SILENT).train(small("tiny", source()), false, null))
                .isInstanceOf(TrainingDataException.class).hasMessageContaining("exists");
        assertThatThrownBy(() -> training(models, TrainingProgress.SILENT).train(small("tiny", source()), true, null))
                .isInstanceOf(TrainingDataException.class).hasMessageContaining("no interrupted run");
    }

    @Test
    void bad_input_is_a_clear_error_that_writes_nothing() throws Exception {
        Path models = temp.resolve("models");
        TestDatabase empty = TestDatabase.create("train_empty", SchemaMigrations::migrate);
        try (Connection library = empty.connect()) {
            TrainOptions libraryOnly = small("x", source()).toBuilder().sources(List.of()).library(true).build();
            assertThatThrownBy(() -> training(models, TrainingProgress.SILENT).train(libraryOnly, false, library))
                    .isInstanceOf(TrainingDataException.class)
                    .hasMessageContaining("no labelled images to train on")
                    .hasMessageContaining("the library has no images whose category came from a label");
        }
        Path oneCategory = temp.resolve("cats");
        Files.createDirectories(oneCategory.resolve("cat"));
        Files.copy(folder.resolve("cifar-10-jpg/train/cat/0001.jpg"), oneCategory.resolve("cat/a.jpg"));
        Files.copy(folder.resolve("cifar-10-jpg/train/cat/0002.jpg"), oneCategory.resolve("cat/b.jpg"));
        assertThatThrownBy(() -> training(models, TrainingProgress.SILENT)
                        .train(small("x", oneCategory.toString()), false, null))
                .isInstanceOf(TrainingDataException.class)
                .hasMessageContaining("of one category, 'cat'");
        Path missing = temp.resolve("no-such-folder");
        assertThatThrownBy(() -> training(models, TrainingProgress.SILENT)
                        .train(small("x", missing.toString()), false, null))
                .isInstanceOf(TrainingDataException.class)
                .hasMessageContaining("cannot read the source " + missing)
                .hasMessageContaining("no such folder or archive");
        assertThat(models).doesNotExist();
    }

    @Test
    void the_library_contributes_its_labelled_images_and_not_the_predicted_ones() throws Exception {
        TestDatabase database = TestDatabase.create("train_library", SchemaMigrations::migrate);
        List<CifarData.Sample> samples = CifarData.sample("train", PER_CLASS).stream()
                .filter(s -> s.category().equals("cat") || s.category().equals("ship")).toList();
        int labelled = 0;
        try (Connection c = database.connect(); PreparedStatement insert = c.prepareStatement("""
                INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                    original_name, category_assignment, category_confidence)
                VALUES (?, (SELECT category_id FROM categories WHERE category_name = ?), ?, 'jpeg', 32, 32, ?,
                    'folder', ?, ?, ?)""")) {
            for (int i = 0; i < samples.size(); i++) {
                CifarData.Sample s = samples.get(i);
                boolean predicted = i % 4 == 0;
                byte[] sha = ImageId.sha256(s.bytes());
                insert.setLong(1, ImageId.fromSha256(sha));
                insert.setString(2, s.category());
                insert.setBytes(3, s.bytes());
                insert.setBytes(4, sha);
                insert.setString(5, s.path());
                insert.setString(6, predicted ? "predicted" : "label");
                insert.setObject(7, predicted ? 0.9f : null);
                insert.executeUpdate();
                labelled += predicted ? 0 : 1;
            }
        }
        Path models = temp.resolve("models");
        TrainOptions fromLibrary = small("lib", source()).toBuilder().sources(List.of()).library(true).epochs(1).build();
        ModelTraining.Result result;
        try (Connection library = database.connect()) {
            result = training(models, TrainingProgress.SILENT).train(fromLibrary, false, library);
        }
        assertThat(result.metrics().classes()).containsExactly("cat", "ship");
        assertThat(result.metrics().trainImages() + result.metrics().heldOutImages()).isEqualTo(labelled);

        // A source and the library holding the same images use each image once.
        Path both = temp.resolve("both");
        TrainOptions withSource = fromLibrary.toBuilder().name("both").sources(List.of(source())).build();
        try (Connection library = database.connect()) {
            result = training(both, TrainingProgress.SILENT).train(withSource, false, library);
        }
        assertThat(result.metrics().trainImages() + result.metrics().heldOutImages()).isEqualTo(10 * PER_CLASS);
        Map<String, Integer> perClass = result.metrics().imagesPerClass();
        assertThat(perClass.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(result.metrics().trainImages());
    }

    @Test
    void the_cifar_binary_archive_and_a_tar_gz_of_images_train_as_ingest_reads_them() throws Exception {
        List<CifarData.Sample> train = CifarData.sample("train", 12);
        List<CifarData.Sample> test = CifarData.sample("test", 4);
        Path archive = CifarData.writeBinaryArchive(temp.resolve("cifar-10-binary.tar.gz"), Map.of(
                "data_batch_1.bin", CifarData.records(train), "test_batch.bin", CifarData.records(test)));
        TrainOptions binary = small("binary", archive + "#train").toBuilder()
                .holdoutSources(List.of(archive + "#test")).holdoutFraction(0).epochs(1).build();
        ModelTraining.Result result = training(temp.resolve("models"), TrainingProgress.SILENT).train(binary, false, null);
        assertThat(result.metrics().trainImages()).isEqualTo(120);
        assertThat(result.metrics().heldOutImages()).isEqualTo(40);
        assertThat(result.metrics().classes()).isEqualTo(ModelDescription.CIFAR10_LABELS);

        Path tar = CifarData.writeTar(temp.resolve("images.tar.gz"), CifarData.asFiles(train), true);
        TrainOptions images = small("images", tar + "#cifar-10-jpg/train").toBuilder().epochs(1).build();
        result = training(temp.resolve("models"), TrainingProgress.SILENT).train(images, false, null);
        assertThat(result.metrics().trainImages() + result.metrics().heldOutImages()).isEqualTo(120);
    }

    /** Records notes; ignores the rest. */
    private static class Recording implements TrainingProgress {
        private final List<String> notes;

        Recording(List<String> notes) {
            this.notes = notes;
        }

        @Override
        public void note(String message) {
            notes.add(message);
        }
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}
