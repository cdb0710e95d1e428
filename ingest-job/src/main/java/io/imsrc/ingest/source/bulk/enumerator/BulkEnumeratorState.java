package io.imsrc.ingest.source.bulk.enumerator;

import io.imsrc.ingest.source.bulk.split.BulkSplit;
import io.imsrc.ingest.source.bulk.split.BulkSplitSerializer;
import io.imsrc.ingest.source.bulk.split.SingleVersionSerializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * What the enumerator checkpoints: the splits not yet handed out and, for a watched folder, the
 * files it has already turned into splits, so that a restore neither loses nor repeats a file.
 */
public record BulkEnumeratorState(List<BulkSplit> pending, Set<String> seenFiles, int scans) {

    public BulkEnumeratorState {
        pending = List.copyOf(pending);
        seenFiles = Set.copyOf(seenFiles);
    }

    /** Version 1. */
    public static final class Serializer extends SingleVersionSerializer<BulkEnumeratorState> {

        public Serializer() {
            super(1, "bulk enumerator state");
        }

        @Override
        public void write(BulkEnumeratorState state, DataOutputView out) throws IOException {
            out.writeInt(state.pending().size());
            for (BulkSplit split : state.pending()) {
                BulkSplitSerializer.INSTANCE.write(split, out);
            }
            out.writeInt(state.seenFiles().size());
            for (String file : state.seenFiles()) {
                out.writeUTF(file);
            }
            out.writeInt(state.scans());
        }

        @Override
        public BulkEnumeratorState read(DataInputView in) throws IOException {
            int pendingCount = in.readInt();
            List<BulkSplit> pending = new ArrayList<>(pendingCount);
            for (int i = 0; i < pendingCount; i++) {
                pending.add(BulkSplitSerializer.INSTANCE.read(in));
            }
            int seenCount = in.readInt();
            Set<String> seen = new HashSet<>(seenCount * 2);
            for (int i = 0; i < seenCount; i++) {
                seen.add(in.readUTF());
            }
            return new BulkEnumeratorState(pending, seen, in.readInt());
        }
    }
}
