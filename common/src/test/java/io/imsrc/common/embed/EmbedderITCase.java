package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.testing.SharedFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real ResNet-20 against the reference embeddings PyTorch computed for the shared images. */
class EmbedderITCase {

    private static final double MIN_COSINE = 0.999;

    private static List<Reference> references;
    private static List<DecodedImage> images;

    private record Reference(String image, String predicted, float[] embedding) {}

    @BeforeAll
    static void readReferenceImages() throws Exception {
        JsonNode json = new ObjectMapper().readTree(SharedFiles.model("resnet20-cifar10.reference.json").toFile());
        references = new ArrayList<>();
        for (JsonNode node : json.get("images")) {
            JsonNode values = node.get("embedding");
            float[] embedding = new float[values.size()];
            for (int i = 0; i < embedding.length; i++) {
                embedding[i] = (float) values.get(i).asDouble();
            }
            references.add(new Reference(node.get("image").asText(), node.get("predicted").asText(), embedding));
        }
        assertThat(references).as("reference images").hasSizeGreaterThanOrEqualTo(20);
        Map<String, byte[]> files = SharedFiles.readTarEntries(
                SharedFiles.cifar10JpgArchive(), references.stream().map(Reference::image).toList());
        images = new ArrayList<>();
        for (Reference reference : references) {
            images.add(ImageDecoder.decode(files.get(reference.image())));
        }
    }

    @Test
    void every_reference_image_embeds_within_cosine_0_999_and_predicts_the_reference_class() throws Exception {
        Embedder embedder = SharedEmbedder.resnet20();

        List<Embedding> embeddings = embedder.embedImages(images);

        assertThat(embeddings).hasSameSizeAs(references);
        for (int i = 0; i < references.size(); i++) {
            Reference reference = references.get(i);
            Embedding embedding = embeddings.get(i);
            assertThat(EmbeddingMath.cosine(embedding.vector(), reference.embedding()))
                    .as("cosine to the reference embedding of %s", reference.image())
                    .isGreaterThanOrEqualTo(MIN_COSINE);
            assertThat(embedding.predictedLabel()).as("predicted class of %s", reference.image())
                    .isEqualTo(reference.predicted());
            assertThat(embedding.confidence()).isBetween(0f, 1f);
        }
    }

    @Test
    void embeddings_are_unit_vectors_of_the_model_dimension() throws Exception {
        Embedder embedder = SharedEmbedder.resnet20();

        List<Embedding> embeddings = embedder.embedImages(images.subList(0, 3));

        assertThat(embedder.dimension()).isEqualTo(64);
        for (Embedding embedding : embeddings) {
            assertThat(embedding.vector()).hasSize(64);
            double norm = 0;
            for (float v : embedding.vector()) {
                norm += v * v;
            }
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void an_image_embeds_the_same_alone_and_inside_a_larger_batch() throws Exception {
        Embedder embedder = SharedEmbedder.resnet20();
        List<DecodedImage> many = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            many.addAll(images);
        }

        float[] alone = embedder.embedImages(List.of(images.get(5))).get(0).vector();
        List<Embedding> batched = embedder.embedImages(many);

        assertThat(batched).hasSize(many.size());
        assertThat(EmbeddingMath.cosine(alone, batched.get(5).vector())).isCloseTo(1.0, within(1e-5));
        assertThat(EmbeddingMath.cosine(alone, batched.get(5 + 2 * images.size()).vector())).isCloseTo(1.0, within(1e-5));
    }

    @Test
    void two_threads_embedding_at_once_get_the_same_results_as_one() throws Exception {
        Embedder embedder = SharedEmbedder.resnet20();
        List<Embedding> expected = embedder.embedImages(images);
        List<DecodedImage> reversed = new ArrayList<>(images);
        Collections.reverse(reversed);

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<List<Embedding>> forward = pool.submit(() -> embedder.embedImages(images));
            Future<List<Embedding>> backward = pool.submit(() -> embedder.embedImages(reversed));
            List<Embedding> a = forward.get();
            List<Embedding> b = backward.get();
            for (int i = 0; i < images.size(); i++) {
                assertThat(EmbeddingMath.cosine(a.get(i).vector(), expected.get(i).vector())).isCloseTo(1.0, within(1e-5));
                assertThat(EmbeddingMath.cosine(b.get(images.size() - 1 - i).vector(), expected.get(i).vector()))
                        .isCloseTo(1.0, within(1e-5));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void predictor_threads_and_padded_batches_give_the_same_embeddings_in_the_same_order() throws Exception {
        List<Embedding> expected = SharedEmbedder.resnet20().embedImages(images);
        ModelDescription description = ModelDescription.RESNET20_CIFAR10
                .withModel(SharedFiles.model("resnet20-cifar10.pt").toString());
        EmbedderOptions options = EmbedderOptions.builder()
                // 20 images over 3 threads: batches of 7, 7 and 6, each padded to 8
                .device(Device.CPU).batchSize(8).intraOpThreads(1).padBatches(true).build();

        try (Embedder embedder = Embedder.load(description, options);
                PredictorPool threads = new PredictorPool(embedder, 3)) {
            List<Embedding> actual = threads.embedImages(images);

            assertThat(actual).hasSameSizeAs(expected);
            for (int i = 0; i < expected.size(); i++) {
                assertThat(EmbeddingMath.cosine(actual.get(i).vector(), expected.get(i).vector()))
                        .isCloseTo(1.0, within(1e-5));
                assertThat(actual.get(i).predictedLabel()).isEqualTo(expected.get(i).predictedLabel());
            }
        }
    }

    @Test
    void the_model_id_is_the_name_and_twelve_hex_digits_of_the_file_hash() throws Exception {
        Embedder embedder = SharedEmbedder.resnet20();
        Path file = SharedFiles.model("resnet20-cifar10.pt");

        assertThat(embedder.modelId().value()).matches("resnet20-cifar10-[0-9a-f]{12}");
        assertThat(embedder.modelId()).isEqualTo(ModelId.forFile("resnet20-cifar10", file));
    }

    @Test
    void a_description_whose_logits_index_is_wrong_fails_at_load_with_a_clear_message() {
        ModelDescription wrong = new ModelDescription("wrong", SharedFiles.model("resnet20-cifar10.pt").toString(),
                32, 32, Normalization.INSIDE_MODEL, 0, 2, ModelDescription.CIFAR10_LABELS, null);

        assertThatThrownBy(() -> Embedder.load(wrong, EmbedderOptions.builder().device(Device.CPU).build()).close())
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("does not fit the description")
                .hasMessageContaining("index 2");
    }

    @Test
    void a_closed_embedder_refuses_work_and_closes_twice_quietly() throws Exception {
        ModelDescription description = ModelDescription.RESNET20_CIFAR10
                .withModel(SharedFiles.model("resnet20-cifar10.pt").toString());
        Embedder embedder = Embedder.load(description, EmbedderOptions.builder().device(Device.CPU).build());

        embedder.close();
        embedder.close();

        assertThatThrownBy(() -> embedder.embedImages(images)).isInstanceOf(IllegalStateException.class);
    }
}
