package io.imsrc.query;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.testing.BenchmarkArguments;
import io.imsrc.testing.CifarData;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

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
 * <p>Rows go in through {@link LibraryWriter}: COPY in chunks of {@value LibraryWriter#CHUNK} rows,
 * one transaction per chunk, so a million images take a few minutes. Deterministic for a seed.
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
        try (LibraryWriter writer = LibraryWriter.open(c, spec.modelId(), categoryNames(spec.categories()))) {
            float[][] centres = centres(spec);
            for (long i = spec.first(); i < spec.first() + spec.count(); i++) {
                int category = (int) Math.floorMod(i * 0x9E3779B97F4A7C15L >>> 1, (long) spec.categories());
                writer.add(new LibraryWriter.Row(category, png(i), "png", 8, 8, "synthetic/" + i + ".png",
                        vector(spec, centres[category], i)));
                if (writer.buffered() == LibraryWriter.CHUNK) {
                    writer.commitChunk();
                }
            }
            writer.finish();
            return writer.categoryIds();
        }
    }

    /** CIFAR-10's ten seeded categories first, then {@code synthetic-00011} and on. */
    private static List<String> categoryNames(int count) {
        List<String> names = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            names.add(k < CifarData.CLASSES.size() ? CifarData.CLASSES.get(k) : String.format("synthetic-%05d", k + 1));
        }
        return names;
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
}
