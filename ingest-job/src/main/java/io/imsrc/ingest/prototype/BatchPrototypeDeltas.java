package io.imsrc.ingest.prototype;

import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.EmbeddedImage;
import io.imsrc.ingest.record.PrototypeDelta;
import java.util.LinkedHashMap;
import java.util.Map;
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
        Map<String, double[]> sums = new LinkedHashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        for (EmbeddedImage image : batch.images()) {
            double[] sum = sums.computeIfAbsent(image.category(), c -> new double[image.vector().length]);
            float[] vector = image.vector();
            for (int i = 0; i < vector.length; i++) {
                sum[i] += vector[i];
            }
            counts.merge(image.category(), 1L, Long::sum);
        }
        sums.forEach((category, sum) -> out.collect(new PrototypeDelta(category, sum, counts.get(category))));
    }
}
