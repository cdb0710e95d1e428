package io.imsrc.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.FloatBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelBatchTest {

    @Test
    void without_padding_a_batch_runs_at_its_own_size() {
        assertThat(ModelBatch.paddedSize(5, 32, false)).isEqualTo(5);
    }

    @Test
    void with_padding_a_batch_runs_at_the_next_power_of_two_capped_at_the_batch_size() {
        assertThat(ModelBatch.paddedSize(1, 32, true)).isEqualTo(1);
        assertThat(ModelBatch.paddedSize(5, 32, true)).isEqualTo(8);
        assertThat(ModelBatch.paddedSize(16, 32, true)).isEqualTo(16);
        assertThat(ModelBatch.paddedSize(17, 24, true)).isEqualTo(24);
        assertThat(ModelBatch.paddedSize(24, 24, true)).isEqualTo(24);
    }

    @Test
    void work_is_cut_so_that_every_predictor_thread_gets_a_batch_of_at_most_the_batch_size() {
        assertThat(PredictorPool.chunkSize(32, 32, 1)).isEqualTo(32);
        assertThat(PredictorPool.chunkSize(32, 32, 2)).isEqualTo(16);
        assertThat(PredictorPool.chunkSize(33, 32, 2)).isEqualTo(17);
        assertThat(PredictorPool.chunkSize(1000, 32, 2)).isEqualTo(32);
        assertThat(PredictorPool.chunkSize(1, 32, 4)).isEqualTo(1);
    }

    @Test
    void packing_places_images_one_after_another_and_leaves_padding_blank() {
        ModelBatch batch = new ModelBatch(List.of(new float[] {1, 2, 3}, new float[] {4, 5, 6}), 3, 4);
        FloatBuffer target = FloatBuffer.allocate(16);
        target.put(new float[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9});

        batch.writeTo(target);

        assertThat(batch.count()).isEqualTo(2);
        assertThat(target.remaining()).isEqualTo(12);
        float[] written = new float[12];
        target.get(written);
        assertThat(written).containsExactly(1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void an_image_of_the_wrong_size_is_refused() {
        assertThatThrownBy(() -> new ModelBatch(List.of(new float[] {1, 2}), 3, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 2 floats, the model takes 3");
    }
}
