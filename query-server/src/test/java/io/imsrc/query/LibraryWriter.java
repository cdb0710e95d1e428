package io.imsrc.query;

import io.imsrc.common.record.ImageId;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Writes a benchmark library into PostgreSQL as the ingest job would leave it: images with the id
 * and content hash the job computes from their bytes, one vector of one model each, and each
 * category's prototype, the mean of its vectors with their count (merged with what is already
 * stored, so a second generator run appends). The generators ({@link SyntheticLibrary}, {@link
 * CifarLibrary}) decide what the rows hold; this class only writes them.
 *
 * <p>Rows are buffered by {@link #add} and go in with COPY when the caller calls {@link
 * #commitChunk} (every {@value #CHUNK} rows as a rule), one transaction per chunk with its share of
 * the prototypes, so an interrupted run leaves whole chunks and prototypes that match them. {@link
 * #finish} writes the last chunk.
 *
 * <p>Not thread-safe: one connection, one caller. The writer has one owner, which closes it; closing
 * rolls back what was not committed and gives the connection back its auto-commit mode.
 */
final class LibraryWriter implements AutoCloseable {

    static final int CHUNK = 20_000;

    private static final HexFormat HEX = HexFormat.of();

    /**
     * One image and its vector.
     *
     * @param category the index of its category in the names the writer was opened with
     * @param bytes the stored file
     * @param format the images table's format ({@code jpeg}, {@code png}, ...)
     * @param originalName the name it is found under, as a folder source's path
     * @param vector the model's L2-normalised embedding
     */
    record Row(int category, byte[] bytes, String format, int width, int height, String originalName,
            float[] vector) {

        Row {
            Objects.requireNonNull(bytes, "bytes");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(vector, "vector");
        }
    }

    private final Connection connection;
    private final boolean autoCommit;
    private final String modelId;
    private final List<Integer> categoryIds;
    private final double[][] sums;
    private final long[] counts;
    private StringBuilder images = new StringBuilder();
    private StringBuilder vectors = new StringBuilder();
    private int buffered;
    private boolean finished;
    private boolean closed;

    private LibraryWriter(Connection connection, boolean autoCommit, String modelId, List<Integer> categoryIds) {
        this.connection = connection;
        this.autoCommit = autoCommit;
        this.modelId = modelId;
        this.categoryIds = categoryIds;
        this.sums = new double[categoryIds.size()][];
        this.counts = new long[categoryIds.size()];
    }

    /** Creates the categories that are missing and commits them: the first transaction of a run. */
    static LibraryWriter open(Connection c, String modelId, List<String> categoryNames) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            List<Integer> ids = categories(c, categoryNames);
            c.commit();
            return new LibraryWriter(c, autoCommit, modelId, ids);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            c.setAutoCommit(autoCommit);
            throw e;
        }
    }

    /** The categories' ids, in the order of the names the writer was opened with. */
    List<Integer> categoryIds() {
        return categoryIds;
    }

    /** Rows added since the last commit. */
    int buffered() {
        return buffered;
    }

    void add(Row row) {
        if (finished) {
            throw new IllegalStateException("the library is finished");
        }
        int k = row.category();
        float[] vector = row.vector();
        if (sums[k] == null) {
            sums[k] = new double[vector.length];
        } else if (sums[k].length != vector.length) {
            throw new IllegalArgumentException("a " + vector.length + "-d vector among " + sums[k].length + "-d ones");
        }
        for (int d = 0; d < vector.length; d++) {
            sums[k][d] += vector[d];
        }
        counts[k]++;
        byte[] bytes = row.bytes();
        long id = ImageId.of(bytes);
        // COPY's text format: a bytea is \x and hex digits, its backslash escaped.
        images.append(id).append('\t').append(categoryIds.get(k)).append("\t\\\\x").append(HEX.formatHex(bytes))
                .append('\t').append(row.format()).append('\t').append(row.width()).append('\t')
                .append(row.height()).append("\t\\\\x").append(HEX.formatHex(ImageId.sha256(bytes)))
                .append("\tfolder\t").append(row.originalName()).append("\tlabel\n");
        vectors.append(id).append('\t').append(modelId).append('\t');
        appendArray(vectors, vector);
        vectors.append('\n');
        buffered++;
    }

    /**
     * Writes the buffered rows with COPY and merges their sums into the prototypes, in one
     * transaction, so that whatever a run has committed is consistent: an interrupted run can be
     * continued by another from where it stopped.
     */
    void commitChunk() throws SQLException {
        if (buffered == 0) {
            return;
        }
        copy("COPY images (image_id, category_id, image_data, format, width, height, content_hash, "
                + "source, original_name, category_assignment) FROM STDIN", images);
        copy("COPY vectors (image_id, model_id, embedding) FROM STDIN", vectors);
        mergePrototypes();
        connection.commit();
        images = new StringBuilder();
        vectors = new StringBuilder();
        buffered = 0;
        Arrays.fill(sums, null);
        Arrays.fill(counts, 0);
    }

    /** Commits the last rows; the writer takes no more. */
    void finish() throws SQLException {
        commitChunk();
        finished = true;
    }

    private static List<Integer> categories(Connection c, List<String> names) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO categories (category_name) VALUES (?) ON CONFLICT (category_name) DO NOTHING");
             PreparedStatement select = c.prepareStatement(
                     "SELECT category_id FROM categories WHERE category_name = ?")) {
            for (String name : names) {
                insert.setString(1, name);
                insert.executeUpdate();
                select.setString(1, name);
                try (ResultSet r = select.executeQuery()) {
                    r.next();
                    ids.add(r.getInt(1));
                }
            }
        }
        return ids;
    }

    private static void appendArray(StringBuilder text, float[] vector) {
        text.append('{');
        for (int d = 0; d < vector.length; d++) {
            text.append(d == 0 ? "" : ",").append(vector[d]);
        }
        text.append('}');
    }

    private void copy(String sql, StringBuilder rows) throws SQLException {
        byte[] bytes = rows.toString().getBytes(StandardCharsets.UTF_8);
        CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            copy.writeToCopy(bytes, 0, bytes.length);
            copy.endCopy();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }

    /**
     * The prototypes as the job's sink keeps them: the mean over every stored vector, with the count;
     * the buffered rows' sums merged into what is stored.
     */
    private void mergePrototypes() throws SQLException {
        try (PreparedStatement read = connection.prepareStatement(
                "SELECT prototype, image_count FROM _category_prototypes WHERE category_id = ? AND model_id = ?");
             PreparedStatement write = connection.prepareStatement("""
                     INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count)
                     VALUES (?, ?, ?, ?)
                     ON CONFLICT (category_id, model_id)
                     DO UPDATE SET prototype = excluded.prototype, image_count = excluded.image_count,
                                   updated_at = now()""")) {
            for (int k = 0; k < categoryIds.size(); k++) {
                if (counts[k] == 0) {
                    continue;
                }
                double[] sum = sums[k].clone();
                long count = counts[k];
                read.setInt(1, categoryIds.get(k));
                read.setString(2, modelId);
                try (ResultSet r = read.executeQuery()) {
                    if (r.next()) {
                        Float[] stored = (Float[]) r.getArray(1).getArray();
                        long storedCount = r.getLong(2);
                        for (int d = 0; d < sum.length; d++) {
                            sum[d] += stored[d] * (double) storedCount;
                        }
                        count += storedCount;
                    }
                }
                Float[] mean = new Float[sum.length];
                for (int d = 0; d < sum.length; d++) {
                    mean[d] = (float) (sum[d] / count);
                }
                write.setInt(1, categoryIds.get(k));
                write.setString(2, modelId);
                write.setArray(3, connection.createArrayOf("real", mean));
                write.setLong(4, count);
                write.executeUpdate();
            }
        }
    }

    /** Rolls back what was not committed and restores the connection's auto-commit mode. */
    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!finished) {
                connection.rollback();
            }
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }
}
