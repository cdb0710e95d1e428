package io.imsrc.common.embed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Converts a {@link ModelBatch} into the model's input tensor and the model's output tuple into
 * {@link Embedding}s. The arithmetic is in {@link EmbeddingMath}.
 *
 * <p>Memory: the input is packed into a direct buffer that this translator keeps and reuses, and
 * the tensor is created on it without a copy (DJL's {@code from_blob} path); everything else lives
 * in the context's NDManager, which the predictor closes when the call returns, so each batch's
 * native memory is freed before the next and no garbage is left for the collector, whose threads
 * would otherwise compete with PyTorch's for the cores.
 *
 * <p>Not thread-safe: one translator per predictor, used by that predictor's one thread.
 */
final class EmbeddingTranslator implements NoBatchifyTranslator<ModelBatch, List<Embedding>> {

    private static final String COUNT = "imsrc.count";

    private final ModelDescription description;
    private ByteBuffer input = ByteBuffer.allocateDirect(0);

    EmbeddingTranslator(ModelDescription description) {
        this.description = description;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, ModelBatch batch) {
        ctx.setAttachment(COUNT, batch.count());
        int bytes = batch.length() * Float.BYTES;
        if (input.capacity() < bytes) {
            input = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
        input.clear().limit(bytes);
        batch.writeTo(input.asFloatBuffer());
        NDArray tensor = ctx.getNDManager().create(input,
                new Shape(batch.paddedCount(), 3, description.inputHeight(), description.inputWidth()),
                DataType.FLOAT32);
        return new NDList(tensor);
    }

    @Override
    public List<Embedding> processOutput(TranslatorContext ctx, NDList outputs) {
        int count = (Integer) ctx.getAttachment(COUNT);
        NDArray embeddings = output(outputs, description.embeddingOutput(), "embedding");
        Shape shape = embeddings.getShape();
        if (shape.dimension() != 2 || shape.get(0) < count) {
            throw new IllegalStateException("embedding output " + description.embeddingOutput() + " has shape " + shape
                    + ", expected N x D with N >= " + count);
        }
        int dimension = (int) shape.get(1);
        float[] logits = null;
        if (description.hasLogits()) {
            NDArray logitArray = output(outputs, description.logitsOutput(), "logits");
            Shape logitShape = logitArray.getShape();
            if (logitShape.dimension() != 2 || logitShape.get(1) != description.labels().size()) {
                throw new IllegalStateException("logits output " + description.logitsOutput() + " has shape " + logitShape
                        + ", expected N x " + description.labels().size() + " (one per label)");
            }
            logits = logitArray.toFloatArray();
        }
        return EmbeddingMath.toEmbeddings(embeddings.toFloatArray(), dimension, logits, description.labels(), count);
    }

    private static NDArray output(NDList outputs, int index, String what) {
        if (index >= outputs.size()) {
            throw new IllegalStateException("the model returns " + outputs.size() + " outputs, the description puts the "
                    + what + " at index " + index);
        }
        return outputs.get(index);
    }
}
