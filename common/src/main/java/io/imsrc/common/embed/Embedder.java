package io.imsrc.common.embed;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import io.imsrc.common.embed.network.CosineEmbeddingNetwork;
import io.imsrc.common.embed.network.Networks;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.io.NativeAllocator;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds images with a TorchScript model, or a network defined in Java with trained parameters
 * ({@link ModelDescription#architecture()}), through DJL's PyTorch engine, in batches, on the CPU or a
 * GPU.
 *
 * <p><b>Ownership.</b> An embedder owns its model and predictors (native memory outside the heap)
 * and has exactly one owner, which closes it. {@link #close()} is idempotent and releases the
 * predictors, then the model. Each batch's tensors live in a per-call NDManager that is closed when
 * the batch returns, so memory does not grow with the number of batches.
 *
 * <p><b>Threads.</b> {@link #embed} and {@link #embedImages} may be called from several threads at
 * once. DJL predictors are not thread-safe, so each thread that runs the model gets its own
 * predictor on its first call and keeps it until the embedder closes (one per Flink subtask, one
 * per HTTP worker). Every call runs in its caller's thread; the embedder owns no threads. The
 * PyTorch settings that are per thread (intra-op threads, graph optimiser) are applied in each
 * thread that runs the model. {@link #close()} must not overlap
 * with calls still running: the owner closes once its callers have stopped, as Flink does in
 * {@code close()}. Calls after close fail with {@link IllegalStateException}.
 */
public final class Embedder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Embedder.class);
    private static final String ENGINE = "PyTorch";

    private final ModelDescription description;
    private final EmbedderOptions options;
    private final ModelId modelId;
    private final ZooModel<NDList, NDList> model;
    private final ThreadLocal<Predictor<ModelBatch, List<Embedding>>> threadPredictor = new ThreadLocal<>();
    private final List<Predictor<?, ?>> predictors = new ArrayList<>(); // guarded by this
    private volatile boolean closed;
    private int dimension;

    private Embedder(
            ModelDescription description, EmbedderOptions options, ModelId modelId, ZooModel<NDList, NDList> model) {
        this.description = description;
        this.options = options;
        this.modelId = modelId;
        this.model = model;
    }

    /**
     * Loads the model once (downloading it first when its location is a URL), checks its outputs
     * against the description with one blank image, and returns an embedder ready for any thread.
     *
     * @throws IOException when the model file is missing or cannot be read or downloaded
     * @throws EmbeddingException when PyTorch cannot load or run the model, or its outputs do not
     *     match the description
     */
    public static Embedder load(ModelDescription description, EmbedderOptions options)
            throws IOException, EmbeddingException {
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(options, "options");
        Path file = ModelLocator.resolve(description.model(), options.modelCacheDir());
        ModelId modelId = ModelId.forFile(description.name(), file);
        Engine engine;
        try {
            engine = Engine.getEngine(ENGINE);
        } catch (RuntimeException e) {
            throw new EmbeddingException("the PyTorch engine cannot start: " + e.getMessage(), e);
        }
        if (options.tuneNativeAllocator()) {
            NativeAllocator.tuneForInference();
        }
        applyInterOpThreads(options.interOpThreads());
        ai.djl.Device device = options.device().toDjl(engine.getGpuCount());
        ZooModel<NDList, NDList> model = description.isDefinedInJava()
                ? loadParameters(description, file, device) : loadTorchScript(file, device);
        Embedder embedder = new Embedder(description, options, modelId, model);
        try {
            embedder.dimension = embedder.embed(List.of(new float[description.inputLength()])).get(0).dimension();
        } catch (EmbeddingException | RuntimeException e) {
            embedder.close();
            throw new EmbeddingException("the model " + file + " does not fit the description '" + description.name()
                    + "': " + e.getMessage(), e);
        }
        LOG.info("Loaded {} from {} on {} ({}-d embeddings, batches of {})",
                modelId, file, device, embedder.dimension, options.batchSize());
        return embedder;
    }

    private static ZooModel<NDList, NDList> loadTorchScript(Path file, ai.djl.Device device)
            throws EmbeddingException {
        Criteria<NDList, NDList> criteria = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optEngine(ENGINE)
                .optModelPath(file)
                .optDevice(device)
                .optTranslator(new NoopTranslator())
                .optOption("mapLocation", "true") // a model saved on a GPU loads on the CPU too
                .build();
        try {
            return criteria.loadModel();
        } catch (ModelNotFoundException | MalformedModelException | IOException | RuntimeException e) {
            throw new EmbeddingException("PyTorch cannot load the model " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A network defined in Java ({@link Networks}) with the parameters {@code imsrc train} saved,
     * in its inference form ({@link Networks#forInference}: batch norm folded into the convolutions).
     */
    private static ZooModel<NDList, NDList> loadParameters(
            ModelDescription description, Path file, ai.djl.Device device) throws EmbeddingException {
        Model model = Model.newInstance(description.name(), device, ENGINE);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            CosineEmbeddingNetwork network = Networks.build(description.architecture(), description.labels().size());
            model.setBlock(network);
            model.load(in);
            model.setBlock(Networks.forInference(network, description.architecture(), model.getNDManager()));
            network.getParameters().values().forEach(Parameter::close); // folded copies replace them
            return new ZooModel<>(model, new NoopTranslator());
        } catch (MalformedModelException | IOException | RuntimeException e) {
            model.close();
            throw new EmbeddingException("cannot load the parameters " + file + " into the " + description.architecture()
                    + " network of " + description.name() + ": " + e.getMessage(), e);
        }
    }

    public ModelId modelId() {
        return modelId;
    }

    public ModelDescription description() {
        return description;
    }

    public EmbedderOptions options() {
        return options;
    }

    /** The length of the embedding vectors. */
    public int dimension() {
        return dimension;
    }

    /** The device the model runs on, for example {@code cpu()} or {@code gpu(0)}. */
    public String deviceName() {
        return model.getNDManager().getDevice().toString();
    }

    /**
     * Embeds decoded images: preprocesses each ({@link ModelDescription#preprocess}) and embeds them
     * in batches. Returns one embedding per image, in order.
     */
    public List<Embedding> embedImages(List<DecodedImage> images) throws EmbeddingException {
        List<float[]> inputs = new ArrayList<>(images.size());
        for (DecodedImage image : images) {
            inputs.add(description.preprocess(image));
        }
        return embed(inputs);
    }

    /**
     * Embeds preprocessed images ({@code 3 x height x width} floats each, CHW, as {@link
     * ModelDescription#preprocess} makes them), split into batches of at most the configured batch
     * size. Returns one embedding per image, in order.
     *
     * @throws IllegalArgumentException when an image has the wrong number of floats
     * @throws EmbeddingException when the forward pass fails
     */
    public List<Embedding> embed(List<float[]> images) throws EmbeddingException {
        ensureOpen();
        if (images.isEmpty()) {
            return List.of();
        }
        List<Embedding> out = new ArrayList<>(images.size());
        for (int from = 0; from < images.size(); from += options.batchSize()) {
            out.addAll(predictBatch(images.subList(from, Math.min(images.size(), from + options.batchSize()))));
        }
        return out;
    }

    /** One forward pass of at most a batch of images, on this thread's predictor. */
    private List<Embedding> predictBatch(List<float[]> chunk) throws EmbeddingException {
        int padded = ModelBatch.paddedSize(chunk.size(), options.batchSize(), options.padBatches());
        ModelBatch batch = new ModelBatch(chunk, description.inputLength(), padded);
        try {
            return predictor().predict(batch);
        } catch (TranslateException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new EmbeddingException("the forward pass of " + modelId + " failed: " + cause.getMessage(), e);
        }
    }

    /**
     * A predictor on the raw model, NDList in and out, owned by the caller, with the calling
     * thread's PyTorch settings applied; for the benchmark's pure forward pass.
     */
    Predictor<NDList, NDList> newRawPredictor() {
        ensureOpen();
        applyThreadSettings();
        return model.newPredictor(new NoopTranslator());
    }

    ZooModel<NDList, NDList> model() {
        return model;
    }

    private Predictor<ModelBatch, List<Embedding>> predictor() {
        ensureOpen();
        Predictor<ModelBatch, List<Embedding>> predictor = threadPredictor.get();
        if (predictor == null) {
            synchronized (this) {
                ensureOpen();
                predictor = model.newPredictor(new EmbeddingTranslator(description));
                predictors.add(predictor);
            }
            threadPredictor.set(predictor);
            applyThreadSettings();
        }
        return predictor;
    }

    /** PyTorch keeps these per thread, so they are set in every thread that runs the model. */
    private void applyThreadSettings() {
        // PyTorch records autograd history per thread unless told otherwise; DJL switches it off
        // only in the thread that started the engine, and a network defined in Java would keep
        // the history of every forward pass of every other thread.
        JniUtils.setGradMode(false);
        if (options.intraOpThreads() > 0) {
            JniUtils.setNumThreads(options.intraOpThreads());
        }
        JniUtils.setGraphExecutorOptimize(options.graphOptimizer());
    }

    private static void applyInterOpThreads(int threads) {
        if (threads < 1 || JniUtils.getNumInteropThreads() == threads) {
            return;
        }
        try {
            JniUtils.setNumInteropThreads(threads);
        } catch (EngineException e) {
            // PyTorch allows this once per process, before any inter-op work.
            LOG.warn("Cannot set PyTorch's inter-op threads to {} (already {} in this process): {}",
                    threads, JniUtils.getNumInteropThreads(), e.getMessage());
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the embedder for " + modelId + " is closed");
        }
    }

    /**
     * Closes every thread's predictor, newest first, then the model; later failures are
     * suppressed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> newestFirst = new ArrayList<>(predictors);
        Collections.reverse(newestFirst);
        newestFirst.add(model);
        predictors.clear();
        Closeables.closeAll(newestFirst);
    }
}
