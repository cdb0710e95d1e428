package io.imsrc.ingest.sink;

import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.EmbeddedImage;
import io.imsrc.ingest.record.StorableValues;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;
import org.postgresql.PGConnection;

/**
 * Writes one micro-batch of embedded images in a single statement: the batch goes in as arrays
 * (unnest), so PostgreSQL parses, plans and commits once per forward pass instead of once per
 * image. The statement, in order:
 *
 * <ol>
 *   <li>creates the categories the batch names that do not exist yet;
 *   <li>inserts the images, doing nothing for an id already stored (so a replay or a re-ingest is
 *       harmless);
 *   <li>inserts a vector of the job's model for every image whose row now holds these very bytes
 *       (new, or stored before with the same hash); the vector and its image are written in one
 *       statement, so no foreign key can be met half-written, whatever the order of the sinks;
 *   <li>marks uploads among them indexed;
 *   <li>turns an image whose id is stored with another hash into a dead letter (HASH_COLLISION), and
 *       its upload rejected. The admission operator already refuses such images; this is the guard
 *       for writers outside the job.
 * </ol>
 *
 * <p>The category of each image is looked up by a sub-select that fails the statement (NOT NULL)
 * rather than dropping the image in the one case it finds nothing: another writer creating the same
 * new category at the same moment. The sink's retry then finds it.
 *
 * <p>Rows are inserted in id order, so parallel writers lock in the same order and cannot deadlock.
 *
 * <p>Names, content types, record keys and times go through {@link StorableValues}: the upload
 * source refuses records that would need it, but a name read from a zip archive may hold a NUL
 * character too, and one such value would fail the whole batch on every replay.
 */
public final class ImageBatchStatement implements JdbcStatementBuilder<EmbeddedBatch> {

    private static final long serialVersionUID = 1L;

    public static final String SQL = """
            WITH batch AS (
                SELECT *
                FROM unnest(?::bigint[], ?::bytea[], ?::text[], ?::text[], ?::real[], ?::bytea[], ?::text[],
                            ?::int[], ?::int[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[])
                     WITH ORDINALITY AS b(image_id, content_hash, category_name, category_assignment,
                                          category_confidence, image_data, format, width, height, source,
                                          original_name, content_type, received_at_ms, record_key, ord)
            ),
            new_category AS (
                INSERT INTO categories (category_name)
                SELECT DISTINCT category_name FROM batch
                ON CONFLICT (category_name) DO NOTHING
                RETURNING category_id, category_name
            ),
            category AS (
                SELECT category_id, category_name FROM new_category
                UNION ALL
                SELECT category_id, category_name FROM categories
                WHERE category_name IN (SELECT category_name FROM batch)
            ),
            new_image AS (
                INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                    original_name, category_assignment, category_confidence)
                SELECT b.image_id,
                       (SELECT c.category_id FROM category c WHERE c.category_name = b.category_name),
                       b.image_data, b.format, b.width, b.height, b.content_hash, b.source, b.original_name,
                       b.category_assignment, b.category_confidence
                FROM batch b
                ORDER BY b.image_id
                ON CONFLICT DO NOTHING
                RETURNING image_id
            ),
            stored AS (
                SELECT b.* FROM batch b
                WHERE b.image_id IN (SELECT image_id FROM new_image)
                   OR EXISTS (SELECT 1 FROM images i WHERE i.image_id = b.image_id AND i.content_hash = b.content_hash)
            ),
            new_vector AS (
                INSERT INTO vectors (image_id, model_id, embedding)
                SELECT s.image_id, ?, (?::real[])[(s.ord - 1) * ? + 1 : s.ord * ?]
                FROM stored s
                ORDER BY s.image_id
                ON CONFLICT (image_id, model_id) DO NOTHING
            ),
            indexed_upload AS (
                INSERT INTO uploads (image_id, state, original_name, content_type, received_at)
                SELECT s.image_id, 'indexed', s.original_name, s.content_type, to_timestamp(s.received_at_ms / 1000.0)
                FROM stored s
                WHERE s.source = 'upload'
                ORDER BY s.image_id
                ON CONFLICT (image_id) DO UPDATE SET state = 'indexed', reason = NULL, updated_at = now()
            ),
            collision AS (
                SELECT b.* FROM batch b WHERE b.image_id NOT IN (SELECT image_id FROM stored)
            ),
            rejected_upload AS (
                INSERT INTO uploads (image_id, state, reason, original_name, content_type, received_at)
                SELECT c.image_id, 'rejected', 'HASH_COLLISION', c.original_name, c.content_type,
                       to_timestamp(c.received_at_ms / 1000.0)
                FROM collision c
                WHERE c.source = 'upload'
                ON CONFLICT (image_id) DO UPDATE SET state = 'rejected', reason = EXCLUDED.reason, updated_at = now()
                WHERE uploads.state <> 'indexed'
            )
            INSERT INTO dead_letters (source, image_id, original_name, reason, detail, record_key)
            SELECT c.source, c.image_id, c.original_name, 'HASH_COLLISION',
                   'image id ' || c.image_id || ' is stored for other bytes (their SHA-256 differs)', c.record_key
            FROM collision c
            ON CONFLICT (source, record_key, reason) DO NOTHING
            """;

    private final String modelId;

    public ImageBatchStatement(String modelId) {
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    @Override
    public void accept(PreparedStatement statement, EmbeddedBatch batch) throws SQLException {
        List<EmbeddedImage> images = batch.images();
        int n = images.size();
        int dimension = batch.dimension();
        long[] ids = new long[n];
        byte[][] hashes = new byte[n][];
        String[] categories = new String[n];
        String[] assignments = new String[n];
        Float[] confidences = new Float[n];
        byte[][] data = new byte[n][];
        String[] formats = new String[n];
        int[] widths = new int[n];
        int[] heights = new int[n];
        String[] sources = new String[n];
        String[] names = new String[n];
        String[] contentTypes = new String[n];
        long[] receivedAt = new long[n];
        String[] recordKeys = new String[n];
        float[] embeddings = new float[n * dimension];
        for (int i = 0; i < n; i++) {
            EmbeddedImage image = images.get(i);
            if (image.vector().length != dimension) {
                throw new SQLException("a batch mixes vectors of " + dimension + " and " + image.vector().length
                        + " dimensions");
            }
            ids[i] = image.meta().imageId();
            hashes[i] = image.meta().sha256();
            categories[i] = image.category();
            assignments[i] = image.predicted() ? "predicted" : "label";
            confidences[i] = image.confidence();
            data[i] = image.stored().data();
            formats[i] = image.stored().format();
            widths[i] = image.stored().width();
            heights[i] = image.stored().height();
            sources[i] = image.meta().source().dbName();
            names[i] = StorableValues.text(image.meta().originalName());
            contentTypes[i] = StorableValues.text(image.meta().contentType());
            receivedAt[i] = StorableValues.clampMillis(image.meta().receivedAtMillis());
            recordKeys[i] = StorableValues.text(image.meta().recordKey());
            System.arraycopy(image.vector(), 0, embeddings, i * dimension, dimension);
        }
        // PGConnection's createArrayOf takes primitive arrays, which it sends without boxing.
        PGConnection c = statement.getConnection().unwrap(PGConnection.class);
        int p = 1;
        statement.setArray(p++, c.createArrayOf("int8", ids));
        statement.setArray(p++, c.createArrayOf("bytea", hashes));
        statement.setArray(p++, c.createArrayOf("text", categories));
        statement.setArray(p++, c.createArrayOf("text", assignments));
        statement.setArray(p++, c.createArrayOf("float4", confidences));
        statement.setArray(p++, c.createArrayOf("bytea", data));
        statement.setArray(p++, c.createArrayOf("text", formats));
        statement.setArray(p++, c.createArrayOf("int4", widths));
        statement.setArray(p++, c.createArrayOf("int4", heights));
        statement.setArray(p++, c.createArrayOf("text", sources));
        statement.setArray(p++, c.createArrayOf("text", names));
        statement.setArray(p++, c.createArrayOf("text", contentTypes));
        statement.setArray(p++, c.createArrayOf("int8", receivedAt));
        statement.setArray(p++, c.createArrayOf("text", recordKeys));
        statement.setString(p++, modelId);
        statement.setArray(p++, c.createArrayOf("float4", embeddings));
        statement.setInt(p++, dimension);
        statement.setInt(p, dimension);
    }
}
