package io.imsrc.ingest.source.bulk.split;

import java.io.IOException;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A checkpoint serializer that knows one version of its format and refuses any other, so a
 * checkpoint written by a different format fails with a message instead of reading garbage. Bump
 * the version when a field is added.
 */
public abstract class SingleVersionSerializer<T> implements SimpleVersionedSerializer<T> {

    private final int version;
    private final String what;

    /** @param what what is serialized, for the error on an unknown version */
    protected SingleVersionSerializer(int version, String what) {
        this.version = version;
        this.what = what;
    }

    /** Writes {@code value} in this version's format, also as part of a larger record. */
    public abstract void write(T value, DataOutputView out) throws IOException;

    /** Reads what {@link #write} wrote. */
    public abstract T read(DataInputView in) throws IOException;

    @Override
    public final int getVersion() {
        return version;
    }

    @Override
    public final byte[] serialize(T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        write(value, out);
        return out.getCopyOfBuffer();
    }

    @Override
    public final T deserialize(int serializedVersion, byte[] serialized) throws IOException {
        if (serializedVersion != version) {
            throw new IOException("unknown " + what + " version " + serializedVersion);
        }
        return read(new DataInputDeserializer(serialized));
    }
}
