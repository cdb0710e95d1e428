package io.imsrc.ingest.testing;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.prototype.CategorySums;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fresh, migrated database on the JVM's shared embedded PostgreSQL, with the queries the tests
 * assert on. Each test that ingests gets its own, so tests never see each other's rows.
 */
public final class TestDatabase {

    private final EmbeddedPostgresServer.Database database;

    private TestDatabase(EmbeddedPostgresServer.Database database) {
        this.database = database;
    }

    public static TestDatabase create(String prefix) throws SQLException {
        EmbeddedPostgresServer.Database database = SharedPostgres.createDatabase(prefix);
        SchemaMigrations.migrate(database.dataSource());
        return new TestDatabase(database);
    }

    /** The database {@code database}, migrated: for a test that runs a PostgreSQL of its own. */
    public static TestDatabase on(EmbeddedPostgresServer.Database database) throws SQLException {
        SchemaMigrations.migrate(database.dataSource());
        return new TestDatabase(database);
    }

    public DatabaseOptions options() {
        return new DatabaseOptions(database.jdbcUrl(), database.user(), null);
    }

    public Connection connect() throws SQLException {
        return database.dataSource().getConnection();
    }

    public long count(String sql, Object... args) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Rows of a query as maps of column name to value, in the query's order. */
    public List<Map<String, Object>> rows(String sql, Object... args) throws SQLException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= columns; i++) {
                        Object value = rs.getObject(i);
                        if (value instanceof Array array) {
                            value = array.getArray();
                        }
                        row.put(rs.getMetaData().getColumnLabel(i), value);
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /** The stored prototypes of a model: category name to (mean, count). */
    public Map<String, Prototype> prototypes(String modelId) throws SQLException {
        Map<String, Prototype> prototypes = new TreeMap<>();
        for (Map<String, Object> row : rows("""
                SELECT c.category_name, p.prototype, p.image_count
                FROM _category_prototypes p JOIN categories c USING (category_id)
                WHERE p.model_id = ?""", modelId)) {
            prototypes.put((String) row.get("category_name"),
                    new Prototype(floats(row.get("prototype")), (Long) row.get("image_count")));
        }
        return prototypes;
    }

    /** The mean of each category's stored vectors of a model, computed here from the rows. */
    public Map<String, Prototype> meansOfStoredVectors(String modelId) throws SQLException {
        CategorySums<String> sums = new CategorySums<>();
        for (Map<String, Object> row : rows("""
                SELECT c.category_name, v.embedding
                FROM vectors v JOIN images i USING (image_id) JOIN categories c USING (category_id)
                WHERE v.model_id = ?""", modelId)) {
            sums.add((String) row.get("category_name"), floats(row.get("embedding")));
        }
        Map<String, Prototype> means = new TreeMap<>();
        sums.forEach((category, sum) -> means.put(category, new Prototype(sum.mean(), sum.count())));
        return means;
    }

    /** A category's prototype: its mean vector and how many images it covers. */
    public record Prototype(float[] mean, long count) {}

    static float[] floats(Object array) {
        if (array instanceof float[] f) {
            return f;
        }
        Float[] boxed = (Float[]) array;
        float[] out = new float[boxed.length];
        for (int i = 0; i < boxed.length; i++) {
            out[i] = boxed[i];
        }
        return out;
    }

    @Override
    public String toString() {
        return database.name();
    }
}
