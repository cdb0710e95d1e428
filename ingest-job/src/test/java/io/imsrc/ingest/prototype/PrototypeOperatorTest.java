package io.imsrc.ingest.prototype;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.ingest.record.PrototypeDelta;
import io.imsrc.ingest.record.PrototypeRow;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

// "try": the harnesses' close() may throw InterruptedException; try-with-resources is still right.
@SuppressWarnings("try")
class PrototypeOperatorTest {

    private static final long FLUSH_MS = 100;

    private static KeyedOneInputStreamOperatorTestHarness<String, PrototypeDelta, PrototypeRow> harness() throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new PrototypeOperator(FLUSH_MS), PrototypeDelta::category,
                Types.STRING);
    }

    @Test
    void changed_categories_are_written_as_means_at_most_once_per_interval() throws Exception {
        try (var h = harness()) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(new PrototypeDelta("cat", new double[] {1, 0}, 1), 0);
            h.processElement(new PrototypeDelta("cat", new double[] {1, 2}, 2), 0);
            h.processElement(new PrototypeDelta("dog", new double[] {0, 4}, 2), 0);
            assertThat(h.extractOutputValues()).isEmpty();

            h.setProcessingTime(FLUSH_MS);

            List<PrototypeRow> rows = h.extractOutputValues();
            assertThat(rows).extracting(PrototypeRow::category).containsExactly("cat", "dog");
            assertThat(rows.get(0).mean()).containsExactly(2f / 3, 2f / 3);
            assertThat(rows.get(0).count()).isEqualTo(3);
            assertThat(rows.get(1).mean()).containsExactly(0f, 2f);

            h.setProcessingTime(3 * FLUSH_MS);
            assertThat(h.extractOutputValues()).as("nothing changed, nothing written").hasSize(2);
            h.processElement(new PrototypeDelta("dog", new double[] {0, 0}, 2), 0);
            h.prepareSnapshotPreBarrier(1);
            assertThat(h.extractOutputValues()).hasSize(3);
            assertThat(h.extractOutputValues().get(2).mean()).containsExactly(0f, 1f);
        }
    }

    @Test
    void the_sums_survive_a_restore_and_the_end_of_input_flushes() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.open();
            h.processElement(new PrototypeDelta("cat", new double[] {2, 2}, 2), 0);
            h.prepareSnapshotPreBarrier(1);
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness()) {
            h.initializeState(snapshot);
            h.open();
            h.processElement(new PrototypeDelta("cat", new double[] {4, 1}, 1), 0);
            h.endInput();
            List<PrototypeRow> rows = h.extractOutputValues();
            assertThat(rows).hasSize(1);
            assertThat(rows.get(0).count()).isEqualTo(3);
            assertThat(rows.get(0).mean()).containsExactly(2f, 1f);
        }
    }
}
