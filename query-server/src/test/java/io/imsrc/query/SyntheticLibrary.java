package io.imsrc.query;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.testing.BenchmarkArguments;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Fills PostgreSQL with N synthetic images and their vectors, shaped like real ones, for the
 * benchmarks at scale (run on demand, never by the tests' timing):
 *
 * <ul>
 *   <li>vectors are clustered per category: a random unit centre per category plus Gaussian noise of
 *       norm about {@code spread}, normalised to unit length, so that a vector's cosine with its
 *       category's centre is about {@code 1 / sqrt(1 + spread^2)} (0.8 by default, as CIFAR-10's
 *       vectors of the shipped model are with their prototypes);
 *   <li>every image is a distinct 8x8 PNG (its index is written into its first pixels), with its id
 *       and content hash computed from its bytes as the job computes them, so ids and hashes are
 *       distinct and the rows pass every constraint;
 *   <li>each category's prototype is the mean of its vectors with its count, as the job's prototype
 *       sink writes it (merged with what is already stored when appending).
 * </ul>
 *
 * <p>Rows go in with COPY in chunks of {@value #CHUNK} rows, one transaction per chunk, so a
 * million images take about a minute. Deterministic for a seed.
 *
 * <pre>
 * java -cp ... io.imsrc.query.SyntheticLibrary --jdbc-url=jdbc:postgresql://127.0.0.1:5432/imsrc \
 *     --user=postgres --model-id=imsrc-resnet20-cifar10-9b987b6486bc --n=1000000 [--dim=64]
 *     [--categories=10] [--spread=0.75] [--seed=1] [--first=0]
 * </pre>
 *
 * {@code --first} is the index of the first image, so that a second call appends distinct images.
 */
public final class SyntheticLibrary {

    static final int CHUNK = 20_000;

    /** What to generate. */
    record Spec(String modelId, long first, long count, int dim, int categories, double spread, long seed) {
        Spec {
            if (count < 0 || first < 0 || dim < 1 || categories < 1 || spread < 0) {
                throw new IllegalArgumentException("bad synthetic library: " + this);
            }
        }
    }

    private SyntheticLibrary() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = BenchmarkArguments.parse(args);
        Spec spec = new Spec(BenchmarkArguments.required(a, "model-id"), Long.parseLong(a.getOrDefault("first", "0")),
                Long.parseLong(BenchmarkArguments.required(a, "n")), Integer.parseInt(a.getOrDefault("dim", "64")),
                Integer.parseInt(a.getOrDefault("categories", "10")),
                Double.parseDouble(a.getOrDefault("spread", "0.75")), Long.parseLong(a.getOrDefault("seed", "1")));
        long t0 = System.nanoTime();
        try (Connection c = DriverManager.getConnection(BenchmarkArguments.required(a, "jdbc-url"), a.getOrDefault("user", "postgres"),
                a.get("password"))) {
            SchemaMigrations.migrate(c);
            fill(c, spec);
        }
        System.out.printf("wrote %,d synthetic images and vectors (%d-d, %d categories) in %.1f s%n", spec.count(),
                spec.dim(), spec.categories(), (System.nanoTime() - t0) / 1e9);
    }

    /** Writes the images, vectors and prototypes of {@code spec}; returns the category ids used. */
    static List<Integer> fill(Connection c, Spec spec) throws SQLException, IOException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            List<Integer> categoryIds = categories(c, spec.categories());
            c.commit();
            float[][] centres = centres(spec);
            double[][] sums = new double[spec.categories()][spec.dim()];
            long[] counts = new long[spec.categories()];
            for (long from = spec.first(); from < spec.first() + spec.count(); from += CHUNK) {
                long to = Math.min(spec.first() + spec.count(), from + CHUNK);
                StringBuilder images = new StringBuilder();
                StringBuilder vectors = new StringBuilder();
                for (long i = from; i < to; i++) {
                    int category = (int) Math.floorMod(i * 0x9E3779B97F4A7C15L >>> 1, (long) spec.categories());
                    float[] vector = vector(spec, centres[category], i);
                    for (int d = 0; d < vector.length; d++) {
                        sums[category][d] += vector[d];
                    }
                    counts[category]++;
                    byte[] png = png(i);
                    long id = ImageId.of(png);
                    images.append(id).append('\t').append(categoryIds.get(category)).append("\t\\\\x")
                            .append(HexFormat.of().formatHex(png)).append("\tpng\t8\t8\t\\\\x")
                            .append(HexFormat.of().formatHex(ImageId.sha256(png))).append("\tfolder\tsynthetic/")
                            .append(i).append(".png\tlabel\n");
                    vectors.append(id).append('\t').append(spec.modelId()).append('\t').append(array(vector))
                            .append('\n');
                }
                copy(c, "COPY images (image_id, category_id, image_data, format, width, height, content_hash, "
                        + "source, original_name, category_assignment) FROM STDIN", images);
                copy(c, "COPY vectors (image_id, model_id, embedding) FROM STDIN", vectors);
                c.commit();
            }
            prototypes(c, spec, categoryIds, sums, counts);
            c.commit();
            return categoryIds;
        } catch (SQLException | IOException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** CIFAR-10's ten seeded categories first, then {@code synthetic-00011} and on. */
    private static List<Integer> categories(Connection c, int count) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO categories (category_name) VALUES (?) ON CONFLICT (category_name) DO NOTHING");
             PreparedStatement select = c.prepareStatement(
                     "SELECT category_id FROM categories WHERE category_name = ?")) {
            String[] cifar = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
            for (int k = 0; k < count; k++) {
                String name = k < cifar.length ? cifar[k] : String.format("synthetic-%05d", k + 1);
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

    private static float[][] centres(Spec spec) {
        SplittableRandom random = new SplittableRandom(spec.seed());
        float[][] centres = new float[spec.categories()][];
        for (int k = 0; k < centres.length; k++) {
            double[] centre = new double[spec.dim()];
            for (int d = 0; d < centre.length; d++) {
                centre[d] = gaussian(random);
            }
            centres[k] = unit(centre);
        }
        return centres;
    }

    /** Image {@code i}'s vector: its own random stream, so any range can be generated alone. */
    static float[] vector(Spec spec, float[] centre, long i) {
        SplittableRandom random = new SplittableRandom(spec.seed() * 0x632BE59BD9B4E019L + i);
        double noise = spec.spread() / Math.sqrt(spec.dim());
        double[] v = new double[spec.dim()];
        for (int d = 0; d < v.length; d++) {
            v[d] = centre[d] + noise * gaussian(random);
        }
        return unit(v);
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    private static float[] unit(double[] v) {
        double norm = 0;
        for (double x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        float[] unit = new float[v.length];
        for (int d = 0; d < v.length; d++) {
            unit[d] = (float) (v[d] / norm);
        }
        return unit;
    }

    /** A distinct 8x8 PNG: image {@code i}'s index in the first two pixels, a pattern elsewhere. */
    static byte[] png(long i) throws IOException {
        BufferedImage image = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, (int) (i & 0xFFFFFF));
        image.setRGB(1, 0, (int) ((i >>> 24) & 0xFFFFFF));
        for (int p = 2; p < 64; p++) {
            image.setRGB(p % 8, p / 8, (int) ((i * 31 + p * 0x10101) & 0xFFFFFF));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static String array(float[] vector) {
        StringBuilder text = new StringBuilder(vector.length * 12).append('{');
        for (int d = 0; d < vector.length; d++) {
            text.append(d == 0 ? "" : ",").append(vector[d]);
        }
        return text.append('}').toString();
    }

    private static void copy(Connection c, String sql, StringBuilder rows) throws SQLException {
        byte[] bytes = rows.toString().getBytes(StandardCharsets.UTF_8);
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            copy.writeToCopy(bytes, 0, bytes.length);
            copy.endCopy();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }

    /** The prototypes as the job's sink keeps them: the mean over every stored vector, with the count. */
    private static void prototypes(Connection c, Spec spec, List<Integer> categoryIds, double[][] sums, long[] counts)
            throws SQLException {
        try (PreparedStatement read = c.prepareStatement(
                "SELECT prototype, image_count FROM _category_prototypes WHERE category_id = ? AND model_id = ?");
             PreparedStatement write = c.prepareStatement("""
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
                read.setString(2, spec.modelId());
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
                write.setString(2, spec.modelId());
                write.setArray(3, c.createArrayOf("real", mean));
                write.setLong(4, count);
                write.executeUpdate();
            }
        }
    }
}
