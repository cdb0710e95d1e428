package io.imsrc.ingest.admit;

import io.imsrc.common.db.VectorColumns;
import io.imsrc.ingest.DatabaseOptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Objects;

/**
 * Reads every stored image, with its vector of one model where it has one, from PostgreSQL in one
 * streamed query: with autocommit off and a fetch size, PostgreSQL's JDBC driver reads the result
 * through a server-side portal {@value #FETCH_SIZE} rows at a time, so the reader holds one fetch,
 * not the table, however many images are stored, and in PostgreSQL's binary format ({@link
 * VectorColumns#readInBinary}). What the visitor keeps is its own affair: the
 * admission operator keeps a {@code Seen} per id in keyed state, which with the RocksDB state
 * backend lives off the heap.
 *
 * <p>Every admission subtask runs this query and keeps the rows of its own key groups, so a job
 * of parallelism p reads the stored images p times (docs/benchmarks.md, "The job at scale").
 */
public final class JdbcAdmissionBootstrap implements AdmissionBootstrap {

    private static final long serialVersionUID = 1L;

    static final String QUERY = """
            SELECT i.image_id, i.content_hash, c.category_name, v.embedding
            FROM images i
            JOIN categories c ON c.category_id = i.category_id
            LEFT JOIN vectors v ON v.image_id = i.image_id AND v.model_id = ?
            """;

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
    public void forEachStoredImage(Visitor visitor) throws Exception {
        try (Connection connection = database.connect()) {
            connection.setAutoCommit(false); // a cursor, not the whole result in memory
            connection.setReadOnly(true);
            try (PreparedStatement query = connection.prepareStatement(QUERY)) {
                VectorColumns.readInBinary(query, fetchSize);
                query.setString(1, modelId);
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) {
                        visitor.visit(new StoredImage(rows.getLong(1), rows.getBytes(2), rows.getString(3),
                                VectorColumns.floats(rows.getArray(4))));
                    }
                }
            } finally {
                connection.rollback();
            }
        }
    }
}
