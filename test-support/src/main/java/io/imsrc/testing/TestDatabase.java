package io.imsrc.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
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
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * A fresh, migrated database on the JVM's shared embedded PostgreSQL, with the queries the tests
 * assert on and the prototype writes the ingest job makes. Each test that writes rows gets its own,
 * so tests never see each other's rows.
 *
 * <p>The caller names the schema ({@code SchemaMigrations::migrate}): this module sits below common,
 * whose tests use it too, so it cannot call common's migrations itself.
 */
public final class TestDatabase {

    /** What makes a fresh database the one under test: the migrations, as a rule. */
    @FunctionalInterface
    public interface Schema {
        void applyTo(DataSource dataSource) throws SQLException;
    }

    private final EmbeddedPostgresServer.Database database;

    private TestDatabase(EmbeddedPostgresServer.Database database) {
        this.database = database;
    }

    /** A new database named after {@code prefix} on the shared server, with {@code schema} applied. */
    public static TestDatabase create(String prefix, Schema schema) throws SQLException {
        return on(SharedPostgres.createDatabase(prefix), schema);
    }

    /** The database {@code database} with {@code schema} applied: for a test that runs a PostgreSQL of its own. */
    public static TestDatabase on(EmbeddedPostgresServer.Database database, Schema schema) throws SQLException {
        schema.applyTo(database.dataSource());
        return new TestDatabase(database);
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

    /** Rows of a query as maps of column name to value, in the query's order; arrays as Java arrays. */
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

    /** A category's prototype: its mean vector and how many images it covers. */
    public record Prototype(float[] mean, long count) {}

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
        Map<String, List<float[]>> vectors = new TreeMap<>();
        for (Map<String, Object> row : rows("""
                SELECT c.category_name, v.embedding
                FROM vectors v JOIN images i USING (image_id) JOIN categories c USING (category_id)
                WHERE v.model_id = ?""", modelId)) {
            vectors.computeIfAbsent((String) row.get("category_name"), k -> new ArrayList<>())
                    .add(floats(row.get("embedding")));
        }
        Map<String, Prototype> means = new TreeMap<>();
        vectors.forEach((category, list) -> means.put(category, new Prototype(TestVectors.mean(list), list.size())));
        return means;
    }

    /** Every stored prototype equals the mean of its category's stored vectors, and none is missing. */
    public void assertPrototypesAreExactMeans(String modelId) throws SQLException {
        Map<String, Prototype> expected = meansOfStoredVectors(modelId);
        Map<String, Prototype> actual = prototypes(modelId);
        assertThat(actual.keySet()).as("categories with prototypes").isEqualTo(expected.keySet());
        expected.forEach((category, mean) -> {
            Prototype stored = actual.get(category);
            assertThat(stored.count()).as("image count of %s", category).isEqualTo(mean.count());
            assertThat(stored.mean()).as("prototype of %s", category).containsExactly(mean.mean(), within(1e-5f));
        });
    }

    /** Whether the stored prototypes are the exact means already (for waiting on a running job). */
    public boolean prototypesAreExactMeans(String modelId) throws SQLException {
        try {
            assertPrototypesAreExactMeans(modelId);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    /** Upserts each category's prototype as the ingest job does; a category without a count covers one image. */
    public void writePrototypes(Map<String, float[]> means, Map<String, Integer> counts, String modelId)
            throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement("""
                INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count)
                SELECT category_id, ?, ?, ? FROM categories WHERE category_name = ?
                ON CONFLICT (category_id, model_id) DO UPDATE SET prototype = EXCLUDED.prototype,
                    image_count = EXCLUDED.image_count, updated_at = now()""")) {
            for (var e : means.entrySet()) {
                s.setString(1, modelId);
                s.setArray(2, floatArray(c, e.getValue()));
                s.setLong(3, counts.getOrDefault(e.getKey(), 1));
                s.setString(4, e.getKey());
                s.executeUpdate();
            }
        }
    }

    /** {@code vector} as a PostgreSQL {@code real[]} on {@code c}. */
    public static Array floatArray(Connection c, float[] vector) throws SQLException {
        return c.unwrap(PGConnection.class).createArrayOf("float4", vector);
    }

    /** A {@code real[]} as {@link #rows} returns it (primitive or boxed) as a float[]. */
    public static float[] floats(Object array) {
        if (array instanceof Float[] boxed) {
            float[] out = new float[boxed.length];
            IntStream.range(0, out.length).forEach(i -> out[i] = boxed[i]);
            return out;
        }
        return (float[]) array;
    }

    @Override
    public String toString() {
        return database.name();
    }
}
