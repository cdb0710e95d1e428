package io.imsrc.ingest.sink;

import io.imsrc.ingest.record.DeadLetter;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.StorableValues;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;

/**
 * Records a refused image in dead_letters and, for an upload, marks its row in uploads rejected
 * with the reason, in one statement. Idempotent: dead_letters is unique per source, record key and
 * reason, and an upload already indexed stays indexed.
 *
 * <p>A dead letter is often made of the very values that were refused, so every text is made
 * storable and cut to length, and the time is clamped ({@link StorableValues}): the dead letter of a
 * bad record must never fail in its turn.
 */
public final class DeadLetterStatement implements JdbcStatementBuilder<DeadLetter> {

    private static final long serialVersionUID = 1L;

    public static final String SQL = """
            WITH dead_letter AS (
                INSERT INTO dead_letters (source, image_id, original_name, reason, detail, record_key)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (source, record_key, reason) DO NOTHING
            )
            INSERT INTO uploads (image_id, state, reason, original_name, content_type, received_at)
            SELECT ?, 'rejected', ?, ?, ?, to_timestamp(? / 1000.0)
            WHERE ?::text = 'upload' AND ?::bigint IS NOT NULL
            ON CONFLICT (image_id) DO UPDATE SET state = 'rejected', reason = EXCLUDED.reason, updated_at = now()
            WHERE uploads.state <> 'indexed'
            """;

    @Override
    public void accept(PreparedStatement statement, DeadLetter letter) throws SQLException {
        ImageMeta meta = letter.meta();
        String source = meta.source().dbName();
        String originalName = StorableValues.text(meta.originalName(), StorableValues.MAX_TEXT_CHARS);
        int p = 1;
        statement.setString(p++, source);
        setId(statement, p++, meta);
        statement.setString(p++, originalName);
        statement.setString(p++, letter.reason().name());
        statement.setString(p++, StorableValues.text(letter.detail(), StorableValues.MAX_TEXT_CHARS));
        statement.setString(p++, StorableValues.text(meta.recordKey(), StorableValues.MAX_TEXT_CHARS));
        setId(statement, p++, meta);
        statement.setString(p++, letter.reason().name());
        statement.setString(p++, originalName);
        statement.setString(p++, StorableValues.text(meta.contentType(), StorableValues.MAX_TEXT_CHARS));
        statement.setLong(p++, StorableValues.clampMillis(meta.receivedAtMillis()));
        statement.setString(p++, source);
        setId(statement, p, meta);
    }

    private static void setId(PreparedStatement statement, int index, ImageMeta meta) throws SQLException {
        if (meta.hasId()) {
            statement.setLong(index, meta.imageId());
        } else {
            statement.setNull(index, Types.BIGINT);
        }
    }
}
