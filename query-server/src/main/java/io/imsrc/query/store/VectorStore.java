package io.imsrc.query.store;

import io.imsrc.common.db.VectorColumns;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the index manager reads from PostgreSQL: the vectors of one model with their categories, the
 * category prototypes, and the saved index's metadata row (table {@code faiss}). Stateless and
 * thread-safe; every call takes a connection from the pool and gives it back.
 */
public final class VectorStore {

    private static final int FETCH_SIZE = 2000;

    /** A build's work memory in PostgreSQL, for the hash of the images' categories (readForBuild). */
    static final String BUILD_WORK_MEM = "64MB";

    private static final String VECTORS = """
            SELECT v.image_id, c.category_name, v.embedding, v.vector_seq, v.created_at
            FROM vectors v
            JOIN images i ON i.image_id = v.image_id
            JOIN categories c ON c.category_id = i.category_id
            WHERE v.model_id = ?
            """;

    private static final Logger LOG = LoggerFactory.getLogger(VectorStore.class);

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

    /** What a build reads: how many vectors each category has, then every row. */
    public interface BuildReader {
        /**
         * Called once, before the first row, with the vectors per category that the maintained
         * counts give: the rows that follow, but in the one case docs/design.md names under
         * "catalog_counts" (or after a hand's edit), so a reader takes them as a guide, not a
         * promise: a count may be too high, too low, or even negative.
         */
        void sizes(Map<String, Long> vectorsPerCategory) throws Exception;

        /** One row, in no particular order; {@code category} is one shared instance per category. */
        void row(long imageId, String category, float[] vector, long seq, long createdAtMillis) throws Exception;
    }

    /**
     * Every vector of the model for a build, streamed through a server-side cursor, after the
     * number per category; both read in one REPEATABLE READ transaction. The numbers are the
     * maintained counts of catalog_counts (schema V5), written by triggers in the same transactions
     * as the vectors, so in one snapshot they are the rows that follow, except in the one case of
     * a single statement that changes an image and its vectors at once (docs/design.md,
     * "catalog_counts"); the build takes them as what they are, a guide to each category's index
     * kind. Counting the joined rows instead took 0.7-0.9 s at 1,000,000, with two parallel
     * workers. Categories travel as ids and are named from the categories table, so the stream
     * allocates no string per row.
     *
     * <p>The rows come in no particular order: in the plan PostgreSQL takes, the vectors table's
     * own order (about the order they were written), joined to an in-memory hash of each image's
     * category. Ordering them by sequence number made PostgreSQL sort every row on disk before
     * sending the first (2-3 s of a 9 s read at 1,000,000; docs/benchmarks.md). For that plan the
     * transaction gets {@value #BUILD_WORK_MEM} of work memory (a hash of a million images' ids and
     * categories takes 55 MB; larger libraries go to disk in batches, as every read did before),
     * and no synchronized scan, so that two servers reading at once read alike.
     */
    public void readForBuild(BuildReader reader) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            int isolation = c.getTransactionIsolation();
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                try (Statement s = c.createStatement()) { // for this transaction only
                    s.execute("SET LOCAL work_mem = '" + BUILD_WORK_MEM + "'");
                    s.execute("SET LOCAL synchronize_seqscans = off");
                }
                Map<Integer, String> names = new HashMap<>();
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT category_id, category_name FROM categories")) {
                    while (rs.next()) {
                        names.put(rs.getInt(1), rs.getString(2));
                    }
                }
                Map<String, Long> sizes = new HashMap<>();
                try (PreparedStatement s = c.prepareStatement("""
                        SELECT category_id, sum(delta) FROM catalog_counts
                        WHERE counter = 'vectors' AND model_id = ? GROUP BY category_id HAVING sum(delta) <> 0""")) {
                    s.setString(1, modelId);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            String name = names.get(rs.getInt(1));
                            if (name != null) {
                                sizes.put(name, rs.getLong(2));
                            } else { // no vector can be in a category that does not exist: a count gone wrong
                                LOG.warn("catalog_counts counts {} vectors of {} in category {}, which does not exist; "
                                        + "SELECT imsrc_recount() counts them again", rs.getLong(2), modelId, rs.getInt(1));
                            }
                        }
                    }
                }
                reader.sizes(sizes);
                try (PreparedStatement s = c.prepareStatement("""
                        SELECT v.image_id, i.category_id, v.embedding, v.vector_seq, v.created_at
                        FROM vectors v JOIN images i ON i.image_id = v.image_id
                        WHERE v.model_id = ?""")) {
                    VectorColumns.readInBinary(s, FETCH_SIZE);
                    s.setString(1, modelId);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            reader.row(rs.getLong(1), names.get(rs.getInt(2)), VectorColumns.floats(rs.getArray(3)),
                                    rs.getLong(4), rs.getTimestamp(5).getTime());
                        }
                    }
                }
            } catch (Exception | Error e) {
                try {
                    endReadOnly(c, autoCommit, isolation);
                } catch (SQLException more) {
                    e.addSuppressed(more); // a lost connection fails this too: keep what happened first
                }
                throw e;
            }
            endReadOnly(c, autoCommit, isolation);
        }
    }

    /** Ends a reading transaction and gives the connection back to the pool as it came. */
    private static void endReadOnly(Connection c, boolean autoCommit, int isolation) throws SQLException {
        c.rollback();
        c.setTransactionIsolation(isolation);
        c.setAutoCommit(autoCommit);
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
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // a cursor: a million ids need not arrive at once
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT image_id FROM vectors WHERE model_id = ? AND vector_seq <= ?")) {
                s.setFetchSize(FETCH_SIZE * 10);
                s.setString(1, modelId);
                s.setLong(2, maxSeq);
                long[] ids = new long[1024];
                int n = 0;
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        if (n == ids.length) {
                            ids = Arrays.copyOf(ids, n * 2);
                        }
                        ids[n++] = rs.getLong(1);
                    }
                }
                return Arrays.copyOf(ids, n);
            } finally {
                c.rollback();
                c.setAutoCommit(autoCommit);
            }
        }
    }

    /**
     * How many vectors of the model have a sequence number up to {@code maxSeq}, and the sum of
     * their ids: one aggregate row that tells whether a saved index holding that many ids with that
     * sum holds them all, without sending a million ids to compare one by one.
     */
    public IdFingerprint fingerprintUpTo(long maxSeq) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT count(*), coalesce(sum(image_id), 0) FROM vectors WHERE model_id = ? AND vector_seq <= ?")) {
            s.setString(1, modelId);
            s.setLong(2, maxSeq);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return new IdFingerprint(rs.getLong(1), rs.getBigDecimal(2).toBigIntegerExact());
            }
        }
    }

    /**
     * A set of ids in brief: its size and the exact sum of its ids. Two sets of image ids (the
     * first 8 bytes of SHA-256 digests) with the same size and sum are the same set unless someone
     * chose SHA-256 digests to make them so; and a set that holds a subset of another is equal to
     * it when the sizes match.
     */
    public record IdFingerprint(long count, BigInteger idSum) {

        public IdFingerprint {
            Objects.requireNonNull(idSum, "idSum");
        }

        /** The fingerprint of {@code ids}, summed exactly (a 128-bit sum, no overflow). */
        public static IdFingerprint of(long[] ids) {
            long low = 0;
            long high = 0;
            for (long id : ids) {
                long sum = low + id;
                if (Long.compareUnsigned(sum, low) < 0) {
                    high++;
                }
                low = sum;
            }
            BigInteger total = BigInteger.valueOf(high).shiftLeft(64)
                    .add(new BigInteger(Long.toUnsignedString(low)));
            return new IdFingerprint(ids.length, total);
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
                    prototypes.add(new PrototypeRecord(rs.getString(1), VectorColumns.floats(rs.getArray(2)),
                            rs.getLong(3), rs.getTimestamp(4).getTime()));
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
                VectorColumns.readInBinary(s, FETCH_SIZE);
                binder.bind(s);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        consumer.accept(new VectorRow(rs.getLong(1), rs.getString(2), VectorColumns.floats(rs.getArray(3)),
                                rs.getLong(4), rs.getTimestamp(5).getTime()));
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

    private static Long[] box(long[] values) {
        Long[] boxed = new Long[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }
}
