package io.imsrc.launcher.job;

import io.imsrc.common.io.Downloads;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Optional;

/**
 * The bulk sources read to the end, per model (table {@code ingested_sources}), so that {@code
 * imsrc start} reads CIFAR-10 once: a second start finds it here and skips it. A source is written
 * here only when all its images are durably stored ({@link SourceCompletion}).
 */
public final class SourceLedger {

    /** A source read to the end. */
    public record Entry(String source, long imagesRead, OffsetDateTime completedAt) {}

    private final DatabaseOptions database;
    private final String modelId;

    public SourceLedger(DatabaseOptions database, String modelId) {
        this.database = database;
        this.modelId = modelId;
    }

    /**
     * How a source is known in the ledger: its location (a path made absolute, a URL as given), its
     * root and its limit, since a larger limit has more to read.
     */
    public static String key(BulkSourceSpec spec) {
        String location = Downloads.isUrl(spec.location()) ? spec.location()
                : Path.of(spec.location()).toAbsolutePath().normalize().toString();
        return location + (spec.root().isEmpty() ? "" : "#" + spec.root()) + (spec.limit() > 0 ? " limit " + spec.limit() : "");
    }

    public Optional<Entry> find(BulkSourceSpec spec) throws SQLException {
        try (Connection c = database.connect();
                PreparedStatement s = c.prepareStatement(
                        "SELECT images_read, completed_at FROM ingested_sources WHERE source = ? AND model_id = ?")) {
            s.setString(1, key(spec));
            s.setString(2, modelId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new Entry(key(spec), rs.getLong(1), rs.getObject(2, OffsetDateTime.class)))
                        : Optional.empty();
            }
        }
    }

    /** Records that {@code spec} was read to the end with {@code imagesRead} images; the first record stays. */
    public void complete(BulkSourceSpec spec, long imagesRead) throws SQLException {
        try (Connection c = database.connect();
                PreparedStatement s = c.prepareStatement("INSERT INTO ingested_sources (source, model_id, images_read) "
                        + "VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            s.setString(1, key(spec));
            s.setString(2, modelId);
            s.setLong(3, imagesRead);
            s.executeUpdate();
        }
    }
}
