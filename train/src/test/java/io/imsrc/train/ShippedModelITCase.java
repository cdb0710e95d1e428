package io.imsrc.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelLocator;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.testing.CifarData;
import io.imsrc.train.eval.RetrievalEvaluation;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model imsrc ships: it resolves from the class path alone (no download, no shared folder),
 * the embedder loads it, and on a fixed sample of 1,000 CIFAR-10 test images (the first 100 of each
 * class) against all 50,000 training images its precision@10 is at least the figure recorded in its
 * metrics file, less 0.01, globally and with the prototype stage.
 */
class ShippedModelITCase {

    private static final int QUERIES_PER_CLASS = 100;
    private static final int TRAIN_PER_CLASS = 5000;

    @TempDir Path cache;

    @Test
    void the_default_model_resolves_from_the_class_path_and_keeps_its_recorded_precision() throws Exception {
        ModelDescription description = ModelDescription.DEFAULT;
        assertThat(ModelDescription.BUNDLED).contains(description.name());
        assertThat(description.model()).startsWith(ModelLocator.CLASSPATH);
        assertThat(ModelLocator.resolve(description.model(), cache)).startsWith(cache);
        JsonNode recorded;
        String metrics = "io/imsrc/common/embed/models/" + description.name() + "/" + description.name() + ".metrics.json";
        try (InputStream in = ModelDescription.class.getClassLoader().getResourceAsStream(metrics)) {
            assertThat(in).as(metrics).isNotNull();
            recorded = new ObjectMapper().readTree(in);
        }

        List<String> classes = description.labels();
        try (Embedder embedder = Embedder.load(description, EmbedderOptions.builder()
                .device(Device.CPU).batchSize(256).modelCacheDir(cache).build())) {
            assertThat(embedder.modelId().value()).isEqualTo(recorded.get("modelId").asText());
            Embedded train = embed(embedder, CifarData.sample("train", TRAIN_PER_CLASS), classes);
            Embedded queries = embed(embedder, CifarData.sample("test", QUERIES_PER_CLASS), classes);
            assertThat(train.labels).hasSize(10 * TRAIN_PER_CLASS);
            assertThat(queries.labels).hasSize(10 * QUERIES_PER_CLASS);
            RetrievalEvaluation.Result result = RetrievalEvaluation.evaluate(train.vectors, train.labels,
                    queries.vectors, queries.labels, classes.size(), 10, 3);
            assertThat(result.precisionGlobal())
                    .isGreaterThanOrEqualTo(recorded.get("precisionAt10").asDouble() - 0.01);
            assertThat(result.precisionPrototypes())
                    .isGreaterThanOrEqualTo(recorded.get("precisionAt10Prototypes").asDouble() - 0.01);
        }
    }

    private record Embedded(float[][] vectors, int[] labels) {}

    private static Embedded embed(Embedder embedder, List<CifarData.Sample> samples, List<String> classes)
            throws Exception {
        float[][] vectors = new float[samples.size()][];
        int[] labels = new int[samples.size()];
        int chunk = 2048;
        for (int from = 0; from < samples.size(); from += chunk) {
            List<float[]> inputs = new ArrayList<>();
            for (int i = from; i < Math.min(samples.size(), from + chunk); i++) {
                inputs.add(embedder.description().preprocess(ImageDecoder.decode(samples.get(i).bytes())));
                labels[i] = classes.indexOf(samples.get(i).category());
            }
            List<Embedding> embeddings = embedder.embed(inputs);
            for (int i = 0; i < embeddings.size(); i++) {
                vectors[from + i] = embeddings.get(i).vector();
            }
        }
        return new Embedded(vectors, labels);
    }
}
