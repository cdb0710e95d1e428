package io.imsrc.ingest.sink;

import io.imsrc.ingest.record.PrototypeRow;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Objects;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;
import org.postgresql.PGConnection;

/**
 * Upserts a category's prototype of the job's model, creating the category first if the image sink
 * has not yet (the two sinks commit independently, in any order).
 */
public final class PrototypeStatement implements JdbcStatementBuilder<PrototypeRow> {

    private static final long serialVersionUID = 1L;

    public static final String SQL = """
            WITH new_category AS (
                INSERT INTO categories (category_name) VALUES (?)
                ON CONFLICT (category_name) DO NOTHING
                RETURNING category_id
            )
            INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count, updated_at)
            VALUES (COALESCE((SELECT category_id FROM new_category),
                             (SELECT category_id FROM categories WHERE category_name = ?)),
                    ?, ?, ?, now())
            ON CONFLICT (category_id, model_id) DO UPDATE
                SET prototype = EXCLUDED.prototype, image_count = EXCLUDED.image_count, updated_at = now()
            """;

    private final String modelId;

    public PrototypeStatement(String modelId) {
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    @Override
    public void accept(PreparedStatement statement, PrototypeRow row) throws SQLException {
        statement.setString(1, row.category());
        statement.setString(2, row.category());
        statement.setString(3, modelId);
        statement.setArray(4, statement.getConnection().unwrap(PGConnection.class).createArrayOf("float4", row.mean()));
        statement.setLong(5, row.count());
    }
}
