package io.imsrc.common.embed.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import io.imsrc.common.embed.ModelArchitecture;
import org.junit.jupiter.api.Test;

/** The network {@code imsrc train} trains and the embedder loads: shapes, unit embeddings, scaled cosines. */
class CosineEmbeddingNetworkTest {

    @Test
    void outputs_unit_embeddings_of_four_times_the_width_and_scaled_cosines_with_the_class_directions() {
        ModelArchitecture architecture = ModelArchitecture.cifarResnet(8, 4, 10f);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            CosineEmbeddingNetwork network = Networks.build(architecture, 3);
            network.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
            network.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 32, 32));
            assertThat(network.getOutputShapes(new Shape[] {new Shape(2, 3, 32, 32)}))
                    .containsExactly(new Shape(2, 16), new Shape(2, 3));

            NDArray input = manager.randomUniform(0f, 1f, new Shape(2, 3, 32, 32));
            NDList out = network.forward(new ParameterStore(manager, false), new NDList(input), false);
            float[] embedding = out.get(0).toFloatArray();
            float[] logits = out.get(1).toFloatArray();
            float[] weights = network.classWeights().getArray().toFloatArray();
            for (int n = 0; n < 2; n++) {
                double norm = 0;
                for (int d = 0; d < 16; d++) {
                    norm += embedding[n * 16 + d] * embedding[n * 16 + d];
                }
                assertThat(norm).isCloseTo(1.0, within(1e-5));
                for (int c = 0; c < 3; c++) {
                    double dot = 0;
                    double w = 0;
                    for (int d = 0; d < 16; d++) {
                        dot += embedding[n * 16 + d] * weights[c * 16 + d];
                        w += weights[c * 16 + d] * weights[c * 16 + d];
                    }
                    assertThat(logits[n * 3 + c]).isCloseTo((float) (10 * dot / Math.sqrt(w)), within(1e-4f));
                }
            }
        }
    }

    @Test
    void the_folded_network_gives_the_trained_networks_outputs() {
        ModelArchitecture architecture = ModelArchitecture.cifarResnet(14, 4, 16f);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            manager.getEngine().setRandomSeed(5);
            CosineEmbeddingNetwork network = Networks.build(architecture, 4);
            network.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
            network.initialize(manager, DataType.FLOAT32, new Shape(3, 3, 32, 32));
            // Batch norm as after training: statistics and affine parameters away from 0 and 1.
            for (Parameter p : network.getParameters().values()) {
                NDArray array = p.getArray();
                switch (p.getType()) {
                    case GAMMA, RUNNING_VAR -> array.set(manager.randomUniform(0.5f, 1.5f, array.getShape()).toFloatArray());
                    case BETA, RUNNING_MEAN -> array.set(manager.randomUniform(-0.3f, 0.3f, array.getShape()).toFloatArray());
                    default -> { }
                }
            }
            NDArray input = manager.randomUniform(0f, 1f, new Shape(3, 3, 32, 32));
            NDList trained = network.forward(new ParameterStore(manager, false), new NDList(input), false);
            FoldedCifarResNet folded = FoldedCifarResNet.fold(network, architecture, manager);
            NDList fast = folded.forward(new ParameterStore(manager, false), new NDList(input), false);
            for (int output = 0; output < 2; output++) {
                float[] a = trained.get(output).toFloatArray();
                float[] b = fast.get(output).toFloatArray();
                assertThat(b).hasSameSizeAs(a);
                for (int i = 0; i < a.length; i++) {
                    assertThat(b[i]).as("output %d, value %d", output, i).isCloseTo(a[i], within(1e-4f));
                }
            }
            assertThatThrownBy(() -> folded.forward(new ParameterStore(manager, false), new NDList(input), true))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void the_architecture_checks_its_depth_width_and_type() {
        assertThat(ModelArchitecture.cifarResnet(20, 16, 16f).unitsPerStage()).isEqualTo(3);
        assertThat(ModelArchitecture.cifarResnet(56, 16, 16f).embeddingDimension()).isEqualTo(64);
        assertThatThrownBy(() -> ModelArchitecture.cifarResnet(21, 16, 16f)).hasMessageContaining("6n + 2");
        assertThatThrownBy(() -> new ModelArchitecture("vit", 20, 16, 16f)).hasMessageContaining("unknown architecture");
        assertThatThrownBy(() -> Networks.build(ModelArchitecture.cifarResnet(20, 16, 16f), 1))
                .hasMessageContaining("at least two classes");
    }
}
