package io.imsrc.query.testing;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.query.store.VectorRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * A fresh, migrated database on the JVM's shared embedded PostgreSQL, and writes of images,
 * vectors and prototypes as the ingest job makes them (vector_seq is PostgreSQL's own, so the rows'
 * seq fields are ignored on write).
 */
public final class TestCatalog {

    private final EmbeddedPostgresServer.Database database;

    private TestCatalog(EmbeddedPostgresServer.Database database) {
        this.database = database;
    }

    public static TestCatalog create(String prefix) throws SQLException {
        EmbeddedPostgresServer.Database database = SharedPostgres.createDatabase(prefix);
        SchemaMigrations.migrate(database.dataSource());
        return new TestCatalog(database);
    }

    /** The database {@code database}, migrated: for a test that runs a PostgreSQL of its own. */
    public static TestCatalog on(EmbeddedPostgresServer.Database database) throws SQLException {
        SchemaMigrations.migrate(database.dataSource());
        return new TestCatalog(database);
    }

    public String jdbcUrl() {
        return database.jdbcUrl();
    }

    public String user() {
        return database.user();
    }

    public DataSource dataSource() {
        return database.dataSource();
    }

    public Connection connect() throws SQLException {
        return database.dataSource().getConnection();
    }

    /** Writes rows of all categories and commits, category by category. */
    public void insert(Map<String, List<VectorRow>> rows, String modelId) throws SQLException {
        List<VectorRow> all = new ArrayList<>();
        rows.values().forEach(all::addAll);
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            insert(c, all, modelId);
            c.commit();
        }
    }

    /** Writes rows on {@code c} without committing: the caller decides when they become visible. */
    public static void insert(Connection c, Collection<VectorRow> rows, String modelId) throws SQLException {
        try (PreparedStatement category = c.prepareStatement(
                        "INSERT INTO categories (category_name) VALUES (?) ON CONFLICT (category_name) DO NOTHING");
                PreparedStatement image = c.prepareStatement("""
                        INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                            original_name, category_assignment)
                        SELECT ?, category_id, ?, 'png', 1, 1, sha256(?), 'folder', ?, 'label'
                        FROM categories WHERE category_name = ?
                        ON CONFLICT DO NOTHING""");
                PreparedStatement vector = c.prepareStatement(
                        "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, ?, ?)")) {
            for (VectorRow row : rows) {
                category.setString(1, row.category());
                category.executeUpdate();
                byte[] bytes = Long.toString(row.imageId()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                image.setLong(1, row.imageId());
                image.setBytes(2, bytes);
                image.setBytes(3, bytes);
                image.setString(4, row.imageId() + ".png");
                image.setString(5, row.category());
                image.executeUpdate();
                vector.setLong(1, row.imageId());
                vector.setString(2, modelId);
                vector.setArray(3, c.unwrap(PGConnection.class).createArrayOf("float4", row.vector()));
                vector.executeUpdate();
            }
        }
    }

    /** Upserts each category's prototype. */
    public void prototypes(Map<String, float[]> means, Map<String, Integer> counts, String modelId) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement("""
                INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count)
                SELECT category_id, ?, ?, ? FROM categories WHERE category_name = ?
                ON CONFLICT (category_id, model_id) DO UPDATE SET prototype = EXCLUDED.prototype,
                    image_count = EXCLUDED.image_count, updated_at = now()""")) {
            for (var e : means.entrySet()) {
                s.setString(1, modelId);
                s.setArray(2, c.unwrap(PGConnection.class).createArrayOf("float4", e.getValue()));
                s.setLong(3, counts.getOrDefault(e.getKey(), 1));
                s.setString(4, e.getKey());
                s.executeUpdate();
            }
        }
    }

    @Override
    public String toString() {
        return database.name();
    }
}
