package io.imsrc.ingest.prototype;

import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.EmbeddedImage;
import io.imsrc.ingest.record.PrototypeDelta;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Sums a batch's vectors per category, so that one delta per category and batch crosses the
 * network to the prototype operator instead of every vector.
 */
public final class BatchPrototypeDeltas implements FlatMapFunction<EmbeddedBatch, PrototypeDelta> {

    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(EmbeddedBatch batch, Collector<PrototypeDelta> out) {
        CategorySums<String> sums = new CategorySums<>();
        for (EmbeddedImage image : batch.images()) {
            sums.add(image.category(), image.vector());
        }
        sums.forEach((category, sum) -> out.collect(sum.toDelta(category)));
    }
}
