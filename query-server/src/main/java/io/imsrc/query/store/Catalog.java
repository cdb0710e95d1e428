package io.imsrc.query.store;

import io.imsrc.common.db.VectorColumns;
import io.imsrc.common.record.UploadRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What the HTTP API reads and writes in PostgreSQL besides the vectors: image metadata and bytes,
 * upload states, category statistics and the counts of /status. Stateless and thread-safe.
 *
 * <p>The counts come from catalog_counts, which triggers keep up to date (schema V5), so that
 * /status and /categories cost a few rows per category however many images there are; {@link
 * CountCompactor} keeps that table small.
 */
public final class Catalog {

    private final DataSource dataSource;
    private final String modelId;

    public Catalog(DataSource dataSource, String modelId) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    /** An image's metadata. */
    public record ImageDetails(long imageId, String category, String format, int width, int height, String source,
            String originalName, String categoryAssignment, Float categoryConfidence, long createdAtMillis,
            boolean hasVector) {}

    /**
     * An upload's state, as the job and the server record it.
     *
     * @param reason the {@link io.imsrc.common.record.Rejection} code of a rejected upload, else null
     * @param reasonDetail the job's explanation of that rejection (its dead letter's detail), or null
     */
    public record UploadState(long imageId, String state, String reason, String reasonDetail, String originalName,
            String contentType, long receivedAtMillis, long updatedAtMillis) {}

    /** The bytes of a stored image and its format. */
    public record ImageContent(byte[] data, String format) {}

    /** A category's figures for GET /categories. */
    public record CategoryStats(String category, long images, long vectors, Long prototypeImageCount,
            Long prototypeUpdatedAtMillis) {}

    /** The counts of GET /status. */
    public record Counts(long images, long vectors, long deadLetters, Map<String, Long> uploads) {}

    public Optional<ImageDetails> image(long imageId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("""
                SELECT i.image_id, c.category_name, i.format, i.width, i.height, i.source, i.original_name,
                       i.category_assignment, i.category_confidence, i.created_at,
                       EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = i.image_id AND v.model_id = ?)
                FROM images i JOIN categories c ON c.category_id = i.category_id
                WHERE i.image_id = ?""")) {
            s.setString(1, modelId);
            s.setLong(2, imageId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                float confidence = rs.getFloat(9);
                return Optional.of(new ImageDetails(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4),
                        rs.getInt(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.wasNull() ? null : confidence,
                        rs.getTimestamp(10).getTime(), rs.getBoolean(11)));
            }
        }
    }

    public Optional<ImageContent> content(long imageId) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT image_data, format FROM images WHERE image_id = ?")) {
            s.setLong(1, imageId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new ImageContent(rs.getBytes(1), rs.getString(2))) : Optional.empty();
            }
        }
    }

    /** The stored vector of the server's model for an image, if it has one. */
    public Optional<float[]> vector(long imageId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT embedding FROM vectors WHERE image_id = ? AND model_id = ?")) {
            s.setLong(1, imageId);
            s.setString(2, modelId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(VectorColumns.floats(rs.getArray(1))) : Optional.empty();
            }
        }
    }

    public Optional<UploadState> upload(long imageId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("""
                SELECT u.image_id, u.state, u.reason, d.detail, u.original_name, u.content_type, u.received_at,
                       u.updated_at
                FROM uploads u
                LEFT JOIN LATERAL (
                    SELECT detail FROM dead_letters
                    WHERE image_id = u.image_id AND source = 'upload' AND reason = u.reason
                    ORDER BY received_at DESC LIMIT 1) d ON u.state = 'rejected'
                WHERE u.image_id = ?""")) {
            s.setLong(1, imageId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? Optional.of(new UploadState(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getTimestamp(7).getTime(),
                                rs.getTimestamp(8).getTime()))
                        : Optional.empty();
            }
        }
    }

    /**
     * Records an upload as queued before it is published: a status query right after the answer
     * finds it. An upload of bytes already indexed stays indexed; a rejected one is queued again,
     * for the job to decide anew, and is not published until {@link #markPublished} says so.
     */
    public void recordQueued(UploadRecord upload) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("""
                INSERT INTO uploads (image_id, state, original_name, content_type, received_at)
                VALUES (?, 'queued', ?, ?, ?)
                ON CONFLICT (image_id) DO UPDATE SET state = 'queued', reason = NULL, original_name = EXCLUDED.original_name,
                    content_type = EXCLUDED.content_type, received_at = EXCLUDED.received_at, updated_at = now(),
                    published_at = NULL
                WHERE uploads.state <> 'indexed'""")) {
            s.setLong(1, upload.imageId());
            s.setString(2, upload.originalName());
            s.setString(3, upload.contentType());
            s.setTimestamp(4, Timestamp.from(upload.receivedAt()));
            s.executeUpdate();
        }
    }

    /**
     * Notes that Kafka has acknowledged these uploads, so that the sweep leaves them to the ingest job
     * ({@link io.imsrc.query.upload.QueuedUploadSweeper}). Rows the job has decided already are
     * left as they are.
     */
    public void markPublished(List<UploadRecord> uploads) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "UPDATE uploads SET published_at = now() WHERE image_id = ? AND received_at = ? AND state = 'queued'")) {
            for (UploadRecord upload : uploads) {
                s.setLong(1, upload.imageId());
                s.setTimestamp(2, Timestamp.from(upload.receivedAt()));
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    /**
     * Takes back a queued row whose record Kafka did not take: the state the upload had before, if
     * it had one, is lost, and the client is told to retry.
     */
    public void forgetQueued(UploadRecord upload) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "DELETE FROM uploads WHERE image_id = ? AND state = 'queued' AND received_at = ?")) {
            s.setLong(1, upload.imageId());
            s.setTimestamp(2, Timestamp.from(upload.receivedAt()));
            s.executeUpdate();
        }
    }

    /**
     * Every category with images, with its counts and prototype. The counts are the sums V5's
     * triggers keep in catalog_counts, a few rows per category, not a count of the images.
     */
    public List<CategoryStats> categories() throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("""
                WITH counted AS (
                    SELECT category_id,
                           sum(delta) FILTER (WHERE counter = 'images') AS images,
                           coalesce(sum(delta) FILTER (WHERE counter = 'vectors' AND model_id = ?), 0) AS vectors
                    FROM catalog_counts
                    WHERE counter IN ('images', 'vectors')
                    GROUP BY category_id
                )
                SELECT c.category_name, k.images, k.vectors, p.image_count, p.updated_at
                FROM counted k
                JOIN categories c ON c.category_id = k.category_id
                LEFT JOIN _category_prototypes p ON p.category_id = c.category_id AND p.model_id = ?
                WHERE k.images > 0
                ORDER BY c.category_name""")) {
            s.setString(1, modelId);
            s.setString(2, modelId);
            List<CategoryStats> stats = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long count = rs.getLong(4);
                    Long prototypeCount = rs.wasNull() ? null : count;
                    Timestamp updated = rs.getTimestamp(5);
                    stats.add(new CategoryStats(rs.getString(1), rs.getLong(2), rs.getLong(3), prototypeCount,
                            updated == null ? null : updated.getTime()));
                }
            }
            return stats;
        }
    }

    /** The counts of /status, summed from catalog_counts (see {@link #categories}). */
    public Counts counts() throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("""
                SELECT counter, upload_state, sum(delta)
                FROM catalog_counts
                WHERE counter IN ('images', 'dead_letters', 'uploads') OR counter = 'vectors' AND model_id = ?
                GROUP BY counter, upload_state""")) {
            s.setString(1, modelId);
            long images = 0;
            long vectors = 0;
            long deadLetters = 0;
            Map<String, Long> uploads = new LinkedHashMap<>();
            for (String state : List.of("queued", "indexed", "rejected")) {
                uploads.put(state, 0L);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long sum = rs.getLong(3);
                    switch (rs.getString(1)) {
                        case "images" -> images = sum;
                        case "vectors" -> vectors = sum;
                        case "dead_letters" -> deadLetters = sum;
                        default -> uploads.put(rs.getString(2), sum);
                    }
                }
            }
            return new Counts(images, vectors, deadLetters, uploads);
        }
    }
}
