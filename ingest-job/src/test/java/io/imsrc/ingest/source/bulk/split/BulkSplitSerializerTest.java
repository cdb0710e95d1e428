package io.imsrc.ingest.source.bulk.split;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.ingest.source.bulk.enumerator.BulkEnumeratorState;
import io.imsrc.ingest.source.bulk.format.Container;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BulkSplitSerializerTest {

    @Test
    void splits_and_enumerator_state_survive_the_round_trip() throws Exception {
        BulkSplit folder = new BulkSplit("files-0", BulkSplit.Content.IMAGES, Container.DIRECTORY, false, "/data/in",
                "train", List.of("train/cat/1.jpg", "train/dog/2.jpg"), null, List.of(), null, 1);
        BulkSplit cifar = new BulkSplit("cifar-data_batch_1.bin", BulkSplit.Content.CIFAR_RECORDS, Container.TAR, true,
                "/cache/cifar-10-binary.tar.gz", "", List.of(), "cifar-10-batches-bin/data_batch_1.bin",
                List.of("airplane", "cat"), new long[] {3, 7, 9000}, 8);

        for (BulkSplit split : List.of(folder, cifar)) {
            byte[] bytes = BulkSplitSerializer.INSTANCE.serialize(split);
            assertThat(BulkSplitSerializer.INSTANCE.deserialize(BulkSplitSerializer.INSTANCE.getVersion(), bytes))
                    .isEqualTo(split);
        }

        BulkEnumeratorState state = new BulkEnumeratorState(List.of(folder, cifar), Set.of("a/1.jpg", "b/2.jpg"), 3);
        var serializer = new BulkEnumeratorState.Serializer();
        BulkEnumeratorState back = serializer.deserialize(serializer.getVersion(), serializer.serialize(state));
        assertThat(back.pending()).containsExactly(folder, cifar);
        assertThat(back.seenFiles()).containsExactlyInAnyOrder("a/1.jpg", "b/2.jpg");
        assertThat(back.scans()).isEqualTo(3);
    }

    @Test
    void a_selection_tells_when_a_split_is_exhausted() {
        BulkSplit split = new BulkSplit("s", BulkSplit.Content.IMAGES, Container.TAR, false, "/a.tar", "", List.of(),
                null, List.of(), new long[] {2, 5}, 0);
        assertThat(split.selected(2)).isTrue();
        assertThat(split.selected(3)).isFalse();
        assertThat(split.exhausted()).isFalse();
        assertThat(split.withPosition(6).exhausted()).isTrue();
    }
}
