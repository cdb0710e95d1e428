package io.imsrc.query.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What the index manager reads from PostgreSQL: the vectors of one model with their categories, the
 * category prototypes, and the saved index's metadata row (table {@code faiss}). Stateless and
 * thread-safe; every call takes a connection from the pool and gives it back.
 */
public final class VectorStore {

    private static final int FETCH_SIZE = 2000;

    private static final String VECTORS = """
            SELECT v.image_id, c.category_name, v.embedding, v.vector_seq, v.created_at
            FROM vectors v
            JOIN images i ON i.image_id = v.image_id
            JOIN categories c ON c.category_id = i.category_id
            WHERE v.model_id = ?
            """;

    private final DataSource dataSource;
    private final String modelId;

    public VectorStore(DataSource dataSource, String modelId) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    public String modelId() {
        return modelId;
    }

    /** Receives rows one by one, in sequence order. */
    @FunctionalInterface
    public interface RowConsumer {
        void accept(VectorRow row) throws Exception;
    }

    /** Every vector of the model, in sequence order, streamed (a cursor, not the whole table in memory). */
    public void forEachVector(RowConsumer consumer) throws Exception {
        stream(VECTORS + " ORDER BY v.vector_seq", consumer, statement -> statement.setString(1, modelId));
    }

    /**
     * The vectors written after {@code afterSeq}, and those with a sequence number in {@code
     * holes}: numbers below {@code afterSeq} that were missing when last read, because a sequence
     * is not commit-ordered and a slower writer's rows commit after a faster one's (docs/design.md,
     * "vector_seq and late commits").
     */
    public void forEachVectorAfter(long afterSeq, long[] holes, RowConsumer consumer) throws Exception {
        stream(VECTORS + " AND (v.vector_seq > ? OR v.vector_seq = ANY (?)) ORDER BY v.vector_seq", consumer, statement -> {
            statement.setString(1, modelId);
            statement.setLong(2, afterSeq);
            statement.setArray(3, statement.getConnection().createArrayOf("int8", box(holes)));
        });
    }

    /** The ids of the model's vectors up to {@code maxSeq}, to check a saved index against. */
    public long[] idsUpTo(long maxSeq) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT image_id FROM vectors WHERE model_id = ? AND vector_seq <= ?")) {
            s.setString(1, modelId);
            s.setLong(2, maxSeq);
            List<Long> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return ids.stream().mapToLong(Long::longValue).toArray();
        }
    }

    /** The vectors of these images, for ids a saved index turned out to lack. */
    public void forEachVectorOf(long[] imageIds, RowConsumer consumer) throws Exception {
        stream(VECTORS + " AND v.image_id = ANY (?) ORDER BY v.vector_seq", consumer, statement -> {
            statement.setString(1, modelId);
            statement.setArray(2, statement.getConnection().createArrayOf("int8", box(imageIds)));
        });
    }

    /**
     * The newest committed vector of the model: its sequence number and when it was written, or
     * empty when the model has none.
     */
    public Optional<Newest> newest() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("""
                        SELECT vector_seq, created_at FROM vectors WHERE model_id = ?
                        ORDER BY vector_seq DESC LIMIT 1""")) {
            s.setString(1, modelId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new Newest(rs.getLong(1), rs.getTimestamp(2).getTime())) : Optional.empty();
            }
        }
    }

    /** A vector's sequence number and write time. */
    public record Newest(long seq, long createdAtMillis) {}

    /** Every category's prototype of the model. */
    public List<PrototypeRecord> prototypes() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("""
                        SELECT c.category_name, p.prototype, p.image_count, p.updated_at
                        FROM _category_prototypes p JOIN categories c ON c.category_id = p.category_id
                        WHERE p.model_id = ? ORDER BY c.category_name""")) {
            s.setString(1, modelId);
            List<PrototypeRecord> prototypes = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    prototypes.add(new PrototypeRecord(rs.getString(1), floats(rs.getArray(2)), rs.getLong(3),
                            rs.getTimestamp(4).getTime()));
                }
            }
            return prototypes;
        }
    }

    /** The row of table {@code faiss} describing a saved index. */
    public record SavedIndex(String modelId, String indexType, String filePath, long vectorCount, long maxSeq,
            long builtAtMillis) {}

    /** The metadata row of the index saved at {@code filePath} for this model and index type, if any. */
    public Optional<SavedIndex> savedIndex(String indexType, String filePath) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("""
                        SELECT vector_count, max_vector_seq, built_at FROM faiss
                        WHERE model_id = ? AND index_type = ? AND file_path = ?""")) {
            s.setString(1, modelId);
            s.setString(2, indexType);
            s.setString(3, filePath);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? Optional.of(new SavedIndex(modelId, indexType, filePath, rs.getLong(1), rs.getLong(2),
                                rs.getTimestamp(3).getTime()))
                        : Optional.empty();
            }
        }
    }

    /** Records that the index at {@code filePath} holds {@code vectorCount} vectors up to {@code maxSeq}. */
    public void recordSavedIndex(String indexType, String filePath, long vectorCount, long maxSeq, long builtAtMillis)
            throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("""
                        INSERT INTO faiss (model_id, index_type, file_path, vector_count, max_vector_seq, built_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (model_id, index_type, file_path) DO UPDATE SET vector_count = EXCLUDED.vector_count,
                            max_vector_seq = EXCLUDED.max_vector_seq, built_at = EXCLUDED.built_at""")) {
            s.setString(1, modelId);
            s.setString(2, indexType);
            s.setString(3, filePath);
            s.setLong(4, vectorCount);
            s.setLong(5, maxSeq);
            s.setTimestamp(6, new Timestamp(builtAtMillis));
            s.executeUpdate();
        }
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    private void stream(String sql, RowConsumer consumer, Binder binder) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // a server-side cursor needs a transaction
            try (PreparedStatement s = c.prepareStatement(sql)) {
                s.setFetchSize(FETCH_SIZE);
                binder.bind(s);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        consumer.accept(new VectorRow(rs.getLong(1), rs.getString(2), floats(rs.getArray(3)), rs.getLong(4),
                                rs.getTimestamp(5).getTime()));
                    }
                }
            } catch (Exception | Error e) {
                // A connection lost mid-read fails the rollback too ("Connection is closed"): keep the
                // failure that says what happened.
                try {
                    c.rollback();
                    c.setAutoCommit(autoCommit);
                } catch (SQLException more) {
                    e.addSuppressed(more);
                }
                throw e;
            }
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }

    static float[] floats(Array array) throws SQLException {
        try {
            Object values = array.getArray();
            if (values instanceof float[] primitive) {
                return primitive;
            }
            Float[] boxed = (Float[]) values;
            float[] out = new float[boxed.length];
            for (int i = 0; i < boxed.length; i++) {
                out[i] = boxed[i];
            }
            return out;
        } finally {
            array.free();
        }
    }

    private static Long[] box(long[] values) {
        Long[] boxed = new Long[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }
}
