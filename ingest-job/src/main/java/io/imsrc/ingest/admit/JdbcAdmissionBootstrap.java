package io.imsrc.ingest.admit;

import io.imsrc.common.db.VectorColumns;
import io.imsrc.ingest.DatabaseOptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the stored images of one admission subtask's key groups, with their vectors of one model
 * where they have one, from PostgreSQL in one streamed query: with autocommit off and a fetch
 * size, PostgreSQL's JDBC driver reads the result through a server-side portal {@value
 * #FETCH_SIZE} rows at a time, so the reader holds one fetch, not the table, however many images
 * are stored, and in PostgreSQL's binary format ({@link VectorColumns#readInBinary}). What the
 * visitor keeps is its own affair: the admission operator keeps a {@code Seen} per id in keyed
 * state, which with the RocksDB state backend lives off the heap.
 *
 * <p>Each admission subtask reads only its own share: PostgreSQL computes every id's Flink key
 * group with a temporary function ({@link #KEY_GROUP_FUNCTION}, Flink's murmur hash of the id's
 * hash code in 32-bit arithmetic) and sends the rows of the subtask's key groups, so a job of
 * parallelism p reads each stored image once rather than p times. The function lives in the
 * reading transaction's temporary schema and goes with its rollback, so nothing is left in the
 * database and a connection pooler in transaction mode sees one transaction. Where temporary
 * functions are not allowed (no TEMPORARY privilege on the database, no PL/pgSQL, a read-only
 * standby) the subtask reads every stored image instead, as before, in a second transaction, and
 * the operator keeps its own (docs/design.md, "Keyed state at scale").
 */
public final class JdbcAdmissionBootstrap implements AdmissionBootstrap {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(JdbcAdmissionBootstrap.class);

    static final String QUERY = """
            SELECT i.image_id, i.content_hash, c.category_name, v.embedding
            FROM images i
            JOIN categories c ON c.category_id = i.category_id
            LEFT JOIN vectors v ON v.image_id = i.image_id AND v.model_id = ?
            """;

    /** {@link #QUERY} for the ids in the key groups {@code ?..?} of {@code ?} (the max parallelism). */
    static final String SHARE_QUERY = QUERY + "WHERE pg_temp.imsrc_in_key_groups(i.image_id, ?, ?, ?)\n";

    /**
     * Whether Flink puts a {@code Long} key in the key groups {@code first..last}: its key group,
     * {@code KeyGroupRangeAssignment.assignToKeyGroup(id, maxParallelism)}, is {@code
     * MathUtils.murmurHash(Long.hashCode(id)) % maxParallelism}. Java's 32-bit int arithmetic is
     * done on bigints holding the unsigned 32-bit value; a multiplication by a 32-bit constant is
     * split at its 16-bit halves, so no product passes 2^48. Flink keeps this assignment fixed
     * (checkpoints depend on it), and {@code JdbcAdmissionBootstrapITCase} checks the function
     * against Flink's own for thousands of ids.
     *
     * <p>One boolean function, not a key-group function and a {@code BETWEEN}: PostgreSQL would call
     * it twice a row, and its guess for a function's range (0.5% of the rows) led it to a nested loop
     * of index lookups, 2x slower than the hash joins it picks for a boolean function (a third).
     * 1.3-2.8 microseconds an id on the development machine, as measured (docs/benchmarks.md).
     */
    static final String KEY_GROUP_FUNCTION = """
            CREATE FUNCTION pg_temp.imsrc_in_key_groups(id bigint, max_parallelism int, first int, last int)
            RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
            DECLARE
                h bigint := (id # (id >> 32)) & 4294967295;               -- Long.hashCode
            BEGIN
                h := (h * 11601 + (((h * 52382) & 65535) << 16)) & 4294967295; -- * 0xcc9e2d51
                h := ((h << 15) & 4294967295) | (h >> 17);                -- rotateLeft 15
                h := (h * 13715 + (((h * 7047) & 65535) << 16)) & 4294967295;  -- * 0x1b873593
                h := ((h << 13) & 4294967295) | (h >> 19);                -- rotateLeft 13
                h := ((h * 5 + 3864292196) & 4294967295) # 4;             -- * 5 + 0xe6546b64, ^ 4
                h := h # (h >> 16);                                       -- bitMix
                h := (h * 51819 + (((h * 34283) & 65535) << 16)) & 4294967295; -- * 0x85ebca6b
                h := h # (h >> 13);
                h := (h * 44597 + (((h * 49842) & 65535) << 16)) & 4294967295; -- * 0xc2b2ae35
                h := h # (h >> 16);
                IF h >= 2147483648 THEN                                   -- as a signed int
                    h := h - 4294967296;
                END IF;
                RETURN (CASE WHEN h = -2147483648 THEN 0 ELSE abs(h) END) % max_parallelism BETWEEN first AND last;
            END $$""";

    /**
     * SQL states that say this role or server cannot create the function: no TEMPORARY privilege
     * (42501), no PL/pgSQL (42704, 0A000), a read-only server such as a standby (25006).
     */
    private static final Set<String> CANNOT_CREATE = Set.of("42501", "42704", "0A000", "25006");

    /** Rows per round trip, and so the most rows the reader holds at once. */
    static final int FETCH_SIZE = 2000;

    private final DatabaseOptions database;
    private final String modelId;
    private final int fetchSize;

    public JdbcAdmissionBootstrap(DatabaseOptions database, String modelId) {
        this(database, modelId, FETCH_SIZE);
    }

    /** With another fetch size: for the test that reads more rows than one fetch holds. */
    JdbcAdmissionBootstrap(DatabaseOptions database, String modelId, int fetchSize) {
        this.database = Objects.requireNonNull(database, "database");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
        if (fetchSize < 1) {
            throw new IllegalArgumentException("the fetch size must be positive, got " + fetchSize);
        }
        this.fetchSize = fetchSize;
    }

    @Override
    public void forEachStoredImage(KeyGroups share, Visitor visitor) throws Exception {
        try (Connection connection = database.connect()) {
            connection.setAutoCommit(false); // a cursor, not the whole result in memory
            try {
                boolean selective = !share.isAll() && createKeyGroupFunction(connection);
                read(connection, selective ? share : null, visitor);
            } catch (Exception | Error e) {
                try {
                    connection.rollback();
                } catch (SQLException more) {
                    e.addSuppressed(more); // a lost connection fails this too: keep what happened first
                }
                throw e;
            }
            connection.rollback(); // and with it the temporary function
        }
    }

    /**
     * Creates the key-group function in this transaction. False where this role or server cannot,
     * with the transaction rolled back: then the read takes every image. Any other failure (a lost
     * connection, a cancel) is thrown.
     */
    private static boolean createKeyGroupFunction(Connection connection) throws SQLException {
        try (Statement create = connection.createStatement()) {
            try (ResultSet may = create.executeQuery("SELECT has_database_privilege(current_database(), 'TEMPORARY')")) {
                if (may.next() && !may.getBoolean(1)) {
                    connection.rollback();
                    LOG.warn("This role may not create temporary objects in PostgreSQL, so each admission subtask reads "
                            + "every stored image and keeps its own (GRANT TEMPORARY ON DATABASE to select them there)");
                    return false;
                }
            }
            create.execute(KEY_GROUP_FUNCTION);
            return true;
        } catch (SQLException e) {
            if (!CANNOT_CREATE.contains(e.getSQLState())) {
                throw e;
            }
            connection.rollback();
            LOG.warn("Cannot create a temporary function to select this subtask's key groups in PostgreSQL ({}): "
                    + "reading every stored image and keeping this subtask's", e.getMessage());
            return false;
        }
    }

    /** Streams the stored images of {@code share}, or every one when it is null, in a read-only transaction. */
    private void read(Connection connection, KeyGroups share, Visitor visitor) throws Exception {
        try (Statement readOnly = connection.createStatement()) {
            readOnly.execute("SET TRANSACTION READ ONLY"); // allowed after the function's creation: only read-write is not
        }
        try (PreparedStatement query = connection.prepareStatement(share == null ? QUERY : SHARE_QUERY)) {
            VectorColumns.readInBinary(query, fetchSize);
            query.setString(1, modelId);
            if (share != null) {
                query.setInt(2, share.maxParallelism());
                query.setInt(3, share.first());
                query.setInt(4, share.last());
            }
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    visitor.visit(new StoredImage(rows.getLong(1), rows.getBytes(2), rows.getString(3),
                            VectorColumns.floats(rows.getArray(4))));
                }
            }
        }
    }
}
