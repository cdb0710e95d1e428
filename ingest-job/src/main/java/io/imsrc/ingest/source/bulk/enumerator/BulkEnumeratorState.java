package io.imsrc.ingest.source.bulk.enumerator;

import io.imsrc.ingest.source.bulk.split.BulkSplit;
import io.imsrc.ingest.source.bulk.split.BulkSplitSerializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

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
    public static final class Serializer implements SimpleVersionedSerializer<BulkEnumeratorState> {

        private static final int VERSION = 1;

        @Override
        public int getVersion() {
            return VERSION;
        }

        @Override
        public byte[] serialize(BulkEnumeratorState state) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(1024);
            out.writeInt(state.pending().size());
            for (BulkSplit split : state.pending()) {
                BulkSplitSerializer.write(split, out);
            }
            out.writeInt(state.seenFiles().size());
            for (String file : state.seenFiles()) {
                out.writeUTF(file);
            }
            out.writeInt(state.scans());
            return out.getCopyOfBuffer();
        }

        @Override
        public BulkEnumeratorState deserialize(int version, byte[] serialized) throws IOException {
            if (version != VERSION) {
                throw new IOException("unknown bulk enumerator state version " + version);
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            int pendingCount = in.readInt();
            List<BulkSplit> pending = new ArrayList<>(pendingCount);
            for (int i = 0; i < pendingCount; i++) {
                pending.add(BulkSplitSerializer.read(in));
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
