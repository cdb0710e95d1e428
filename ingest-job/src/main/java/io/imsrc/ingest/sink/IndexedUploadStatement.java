package io.imsrc.ingest.sink;

import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.StorableValues;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;

/**
 * Marks an upload indexed whose image was already stored (the same bytes uploaded again, or
 * ingested from a folder before): the upload is searchable, nothing else is written. Texts and the
 * time go through {@link StorableValues}, as in every sink.
 */
public final class IndexedUploadStatement implements JdbcStatementBuilder<ImageMeta> {

    private static final long serialVersionUID = 1L;

    public static final String SQL = """
            INSERT INTO uploads (image_id, state, original_name, content_type, received_at)
            VALUES (?, 'indexed', ?, ?, to_timestamp(? / 1000.0))
            ON CONFLICT (image_id) DO UPDATE SET state = 'indexed', reason = NULL, updated_at = now()
            """;

    @Override
    public void accept(PreparedStatement statement, ImageMeta upload) throws SQLException {
        statement.setLong(1, upload.imageId());
        statement.setString(2, StorableValues.text(upload.originalName()));
        statement.setString(3, StorableValues.text(upload.contentType()));
        statement.setLong(4, StorableValues.clampMillis(upload.receivedAtMillis()));
    }
}
