package io.imsrc.query.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.testing.SharedFiles;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The query embedder's model threads with the real model: a failing forward pass stops none of them. */
class QueryEmbedderITCase {

    private static Embedder embedder;

    @BeforeAll
    static void load() throws Exception {
        ModelDescription description = ModelDescription.RESNET20_CIFAR10
                .withModel(SharedFiles.model("resnet20-cifar10.pt").toString());
        embedder = Embedder.load(description, EmbedderOptions.builder().device(Device.CPU).batchSize(4).build());
    }

    @AfterAll
    static void close() {
        if (embedder != null) {
            embedder.close();
        }
    }

    @Test
    void a_failed_forward_pass_fails_only_its_queries_and_the_model_threads_go_on() throws Exception {
        int length = embedder.description().inputLength();
        try (QueryEmbedder queries = new QueryEmbedder(embedder, 1, 4)) {
            // An input the model cannot take fails its batch inside the model thread.
            assertThatThrownBy(() -> queries.embed(new float[length - 1], 60, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class);

            assertThat(queries.healthCheck().problem()).isEmpty();
            Embedding embedding = queries.embed(new float[length], 60, TimeUnit.SECONDS);
            assertThat(embedding.vector()).hasSize(embedder.dimension());
            assertThat(queries.healthCheck().name()).isEqualTo("query_embedder");
        }
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("query-embedder-"));
    }
}
