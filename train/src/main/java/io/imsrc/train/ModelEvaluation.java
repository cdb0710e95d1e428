package io.imsrc.train;

import ai.djl.engine.Engine;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.train.dataset.LabelledImages;
import io.imsrc.train.dataset.TrainingSet;
import io.imsrc.train.eval.RetrievalEvaluation;
import io.imsrc.train.loop.Augmentation;
import io.imsrc.train.loop.CheckpointState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures a written model as ingest and search will use it: loaded from its description through
 * the {@link Embedder}, every training image embedded as the index and every held-out image as a
 * query, ranked by cosine ({@link RetrievalEvaluation}); plus the classifier's accuracy on the
 * held-out images and the run's figures, as {@link TrainingMetrics}.
 */
final class ModelEvaluation {

    /** The retrieval figures' k and the categories of the two-stage search, as the query server's defaults. */
    static final int K = 10;
    static final int TOP_CATEGORIES = 3;

    private static final int EMBED_BATCH = 256;
    private static final int CHUNK = 4096;

    private ModelEvaluation() {}

    /**
     * @param description the model's description file
     * @param modelsDir where the embedder may unpack or download files (DATA_DIR/models)
     */
    static TrainingMetrics evaluate(TrainOptions options, TrainingSet data, CheckpointState state, Path description,
            Path modelsDir) throws IOException, EmbeddingException {
        ModelDescription model = ModelDescription.fromJson(description);
        EmbedderOptions embedderOptions = EmbedderOptions.builder()
                .device(Device.CPU)
                .batchSize(EMBED_BATCH)
                .modelCacheDir(modelsDir)
                .build();
        LabelledImages train = data.train();
        LabelledImages heldOut = data.heldOut();
        try (Embedder embedder = Embedder.load(model, embedderOptions)) {
            List<Embedding> index = embedAll(embedder, train);
            List<Embedding> queries = embedAll(embedder, heldOut);
            RetrievalEvaluation.Result retrieval = RetrievalEvaluation.evaluate(vectors(index), labels(train),
                    vectors(queries), labels(heldOut), train.classes().size(), K, TOP_CATEGORIES);
            long correct = 0;
            for (int i = 0; i < queries.size(); i++) {
                if (train.classes().get(heldOut.label(i)).equals(queries.get(i).predictedLabel())) {
                    correct++;
                }
            }
            Map<String, Integer> perClass = new LinkedHashMap<>();
            int[] counts = train.classCounts();
            for (int c = 0; c < counts.length; c++) {
                perClass.put(train.classes().get(c), counts[c]);
            }
            Path parameters = Path.of(model.model());
            long batchSize = Math.min(options.batchSize(), train.size());
            long imagesTrained = train.size() / batchSize * batchSize * options.epochs();
            return new TrainingMetrics(options.name(), ModelId.forFile(options.name(), parameters).value(),
                    Files.size(parameters), train.size(), heldOut.size(), train.classes(), perClass, options,
                    state.trainingSeconds(), imagesTrained / Math.max(1e-9, state.trainingSeconds()),
                    (double) correct / heldOut.size(), retrieval.precisionGlobal(), retrieval.precisionPrototypes(),
                    retrieval.prototypeTop1(), state.history(), environmentFacts(), Instant.now().toString());
        }
    }

    private static List<Embedding> embedAll(Embedder embedder, LabelledImages images) throws EmbeddingException {
        List<Embedding> out = new ArrayList<>(images.size());
        for (int from = 0; from < images.size(); from += CHUNK) {
            List<float[]> inputs = new ArrayList<>();
            for (int i = from; i < Math.min(images.size(), from + CHUNK); i++) {
                float[] input = new float[images.imageLength()];
                Augmentation.plain(images.pixels(i), input, 0);
                inputs.add(input);
            }
            out.addAll(embedder.embed(inputs));
        }
        return out;
    }

    private static float[][] vectors(List<Embedding> embeddings) {
        float[][] out = new float[embeddings.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = embeddings.get(i).vector();
        }
        return out;
    }

    private static int[] labels(LabelledImages images) {
        int[] out = new int[images.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = images.label(i);
        }
        return out;
    }

    private static Map<String, String> environmentFacts() {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        facts.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        facts.put("java", System.getProperty("java.version"));
        facts.put("djl", Engine.getDjlVersion());
        facts.put("pytorch", Engine.getEngine("PyTorch").getVersion());
        return facts;
    }
}
