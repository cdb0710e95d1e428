package io.imsrc.ingest.source.bulk.split;

import io.imsrc.ingest.source.bulk.format.Container;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** Checkpoints {@link BulkSplit}s, alone and inside the enumerator's state. Version 1. */
public final class BulkSplitSerializer extends SingleVersionSerializer<BulkSplit> {

    public static final BulkSplitSerializer INSTANCE = new BulkSplitSerializer();

    private BulkSplitSerializer() {
        super(1, "bulk split");
    }

    @Override
    public void write(BulkSplit split, DataOutputView out) throws IOException {
        out.writeUTF(split.id());
        out.writeByte(split.content().ordinal());
        out.writeByte(split.container().ordinal());
        out.writeBoolean(split.gzip());
        out.writeUTF(split.path());
        out.writeUTF(split.root());
        writeStrings(split.files(), out);
        out.writeBoolean(split.member() != null);
        if (split.member() != null) {
            out.writeUTF(split.member());
        }
        writeStrings(split.labels(), out);
        long[] selection = split.selection();
        out.writeInt(selection == null ? -1 : selection.length);
        if (selection != null) {
            for (long index : selection) {
                out.writeLong(index);
            }
        }
        out.writeLong(split.position());
    }

    @Override
    public BulkSplit read(DataInputView in) throws IOException {
        String id = in.readUTF();
        BulkSplit.Content content = BulkSplit.Content.values()[in.readByte()];
        Container container = Container.values()[in.readByte()];
        boolean gzip = in.readBoolean();
        String path = in.readUTF();
        String root = in.readUTF();
        List<String> files = readStrings(in);
        String member = in.readBoolean() ? in.readUTF() : null;
        List<String> labels = readStrings(in);
        int selected = in.readInt();
        long[] selection = null;
        if (selected >= 0) {
            selection = new long[selected];
            for (int i = 0; i < selected; i++) {
                selection[i] = in.readLong();
            }
        }
        long position = in.readLong();
        return new BulkSplit(id, content, container, gzip, path, root, files, member, labels, selection, position);
    }

    private static void writeStrings(List<String> strings, DataOutputView out) throws IOException {
        out.writeInt(strings.size());
        for (String s : strings) {
            out.writeUTF(s);
        }
    }

    private static List<String> readStrings(DataInputView in) throws IOException {
        int n = in.readInt();
        List<String> strings = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            strings.add(in.readUTF());
        }
        return strings;
    }
}
