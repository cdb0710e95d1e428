package io.imsrc.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.index.IndexSnapshot;
import io.imsrc.query.index.Prototypes;
import io.imsrc.query.store.PrototypeRecord;
import io.imsrc.query.store.VectorRow;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kept representative is the one a fresh search finds, as vectors come in and prototypes change. */
class CategoryRepresentativesTest {

    private final IndexSnapshot snapshot = IndexSnapshot.build("m", IndexType.FLATL2, 2, 0, Map.of("cat", List.of(
            new VectorRow(1, "cat", new float[] {1, 0}, 1, 0),
            new VectorRow(2, "cat", new float[] {0.6f, 0.8f}, 2, 0))));
    private final CategoryRepresentatives representatives = new CategoryRepresentatives();

    @AfterEach
    void release() {
        snapshot.release();
    }

    private void prototype(float x, float y) {
        snapshot.replacePrototypes(Prototypes.of(List.of(new PrototypeRecord("cat", new float[] {x, y}, 2, 0))));
    }

    @Test
    void a_representative_follows_new_vectors_and_a_new_prototype() {
        assertThat(representatives.of(snapshot, "cat")).as("no prototype yet").isNull();
        prototype(0.95f, 0.31f);
        assertThat(representatives.of(snapshot, "cat").imageId()).isEqualTo(1);
        assertThat(representatives.of(snapshot, "cat").imageId()).as("asked again").isEqualTo(1);

        snapshot.category("cat").add(new float[] {0.9f, 0.436f}, new long[] {3}); // nearer than 1
        assertThat(representatives.of(snapshot, "cat").imageId()).as("after a vector came in").isEqualTo(3);

        prototype(0.5f, 0.9f);
        assertThat(representatives.of(snapshot, "cat").imageId()).as("after the prototype moved").isEqualTo(2);
        assertThat(representatives.of(snapshot, "dog")).as("a category without an index").isNull();
        assertThat(representatives.of(null, "cat")).as("no index at all").isNull();
    }
}
