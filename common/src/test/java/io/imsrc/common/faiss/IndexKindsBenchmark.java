package io.imsrc.common.faiss;

import io.imsrc.testing.BenchmarkArguments;
import io.imsrc.testing.MachineFacts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The trade-off between index kinds by category size: build time, bytes per vector (the FAISS file
 * size, a fair proxy for its memory), single-query latency p50/p99 at k = 10 and recall@10 against
 * the exact flat index. Run on demand (not a test); the results and the choices made from them are
 * in docs/benchmarks.md, "Index kinds by category size", and {@link IndexType}'s Javadoc:
 *
 * <pre>
 * mvn -q -B -o -pl common -am test-compile    # writes common/target/test-classpath.txt
 * CP="common/target/test-classes:common/target/classes:$(cat common/target/test-classpath.txt)"
 * java -Xmx3g -cp "$CP" io.imsrc.common.faiss.IndexKindsBenchmark --dim=64 \
 *     --sizes=10000,25000,50000,100000,250000 --kinds=flat,ivf,hnsw
 * OPENBLAS_NUM_THREADS=1 java -Xmx6g -cp "$CP" io.imsrc.common.faiss.IndexKindsBenchmark --dim=2048 \
 *     --sizes=20000 --queries=100 --kinds=flat,sq8,ivfpq256,ivfsq8,ivfpq512
 * </pre>
 *
 * <p>Options: {@code --dim}, {@code --sizes}, {@code --kinds} (flat, ivf, hnsw, sq8, ivfsq8,
 * ivfpq&lt;m&gt;), {@code --queries} (500), {@code --spread} (0.75), {@code --seed} (1), {@code
 * --min-recall} (0.95, for the summary line) and {@code --build-threads} (1).
 *
 * <p>The data is one category as SyntheticLibrary (query-server) makes it: a random unit centre
 * plus Gaussian noise of norm about {@code --spread} (0.75), normalised, so each vector's cosine
 * with the centre is about 0.8, as the shipped model's CIFAR-10 vectors are with their prototypes.
 * The queries are further vectors of the same category, as a search for a photo of a category
 * meets that category's index. Within the category the noise is isotropic, with no sub-clusters:
 * the hard case for IVF and for quantizers, which real embeddings (of low intrinsic dimension)
 * should beat.
 *
 * <p>Builds use {@code --build-threads} OpenMP threads (1 by default: on a shared 2-core machine a
 * second thread mostly waits at FAISS's barriers), searches one OpenMP thread on the calling
 * thread, as the query server does. Each kind is built, measured and freed in turn, so only
 * the flat index (the ground truth) and one other are in memory at once.
 */
public final class IndexKindsBenchmark {
    private static final int K = 10;
    private static final int WARMUP = 20;
    private static final int[] NPROBES = {4, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536};
    private static final int[] EF_SEARCHES = {16, 32, 64, 96, 128, 192, 256, 384, 512};

    /** OpenMP threads for builds: 1 by default, since on a shared 2-core box a second thread mostly waits. */
    private static int buildThreads;

    private IndexKindsBenchmark() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> a = BenchmarkArguments.parse(args);
        int d = Integer.parseInt(a.getOrDefault("dim", "64"));
        int[] sizes = Arrays.stream(a.getOrDefault("sizes", "10000,25000,50000,100000,250000").split(","))
                .mapToInt(Integer::parseInt).toArray();
        List<String> kinds = List.of(a.getOrDefault("kinds", "flat,ivf,hnsw").split(","));
        int queryCount = Integer.parseInt(a.getOrDefault("queries", "500"));
        double spread = Double.parseDouble(a.getOrDefault("spread", "0.75"));
        long seed = Long.parseLong(a.getOrDefault("seed", "1"));
        double minRecall = Double.parseDouble(a.getOrDefault("min-recall", "0.95"));
        buildThreads = Integer.parseInt(a.getOrDefault("build-threads", "1"));

        printHeader(d, sizes, kinds, queryCount, spread);
        Path dir = Files.createTempDirectory("index-kinds");
        try {
            for (int n : sizes) {
                runSize(n, d, kinds, queryCount, spread, seed, minRecall, dir);
            }
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
        System.out.printf(Locale.ROOT, "%nload average (1, 5, 15 min) at the end: %s; finished %s%n", MachineFacts.loadAverage(),
                ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME));
    }

    private static void runSize(int n, int d, List<String> kinds, int queryCount, double spread, long seed,
            double minRecall, Path dir) throws IOException {
        float[] all = category(n + queryCount, d, spread, seed);
        float[] queries = Arrays.copyOf(all, queryCount * d);
        float[] base = Arrays.copyOfRange(all, queryCount * d, all.length);
        all = null;
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1_000L + 7L * i;
        }
        FaissThreads.setNumThreads(buildThreads);
        long[][] truth;
        try (FaissIndex flat = FaissIndex.create(d, "IDMap2,Flat", Metric.INNER_PRODUCT)) {
            flat.addWithIds(base, ids);
            SearchResult exact = flat.search(queries, K);
            truth = new long[queryCount][];
            for (int q = 0; q < queryCount; q++) {
                truth[q] = exact.ids(q);
            }
        }
        System.out.printf(Locale.ROOT, "%n### %,d vectors of %d dimensions (load average %s)%n%n", n, d, MachineFacts.loadAverage());
        System.out.println("| index | setting | build s | bytes/vector | p50 µs | p99 µs | recall@10 |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|");
        List<String> cheapest = new ArrayList<>();
        for (String kind : kinds) {
            String description = description(kind, n, d);
            FaissThreads.setNumThreads(buildThreads);
            long start = System.nanoTime();
            try (FaissIndex index = FaissIndex.create(d, description, Metric.INNER_PRODUCT)) {
                if (!index.isTrained()) {
                    index.train(base);
                }
                index.addWithIds(base, ids);
                double buildSeconds = (System.nanoTime() - start) / 1e9;
                Path file = dir.resolve("index.faiss");
                index.write(file);
                double bytesPerVector = (double) Files.size(file) / n;
                Files.delete(file);
                FaissThreads.setNumThreads(1);
                String best = null;
                for (Setting setting : settings(description, n)) {
                    setting.apply(index);
                    Measured m = measure(index, queries, d, truth);
                    System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.0f | %.0f | %.0f | %.3f |%n",
                            description, setting.name(), buildSeconds, bytesPerVector,
                            m.p50Micros(), m.p99Micros(), m.recall());
                    if (best == null && m.recall() >= minRecall) {
                        best = String.format(Locale.ROOT, "%s at %s: p50 %.0f µs, recall %.3f", description,
                                setting.name(), m.p50Micros(), m.recall());
                    }
                }
                cheapest.add(best != null ? best : description + ": below " + minRecall + " at every setting");
            }
            System.err.printf(Locale.ROOT, "n=%d %s done%n", n, kind);
        }
        System.out.printf(Locale.ROOT, "%nFirst setting at recall@10 >= %.2f: %s%n", minRecall,
                String.join("; ", cheapest));
    }

    /** The factory description of a kind: flat, ivf, hnsw, sq8, ivfsq8 or ivfpq&lt;m&gt;, with 4 sqrt(n) lists. */
    private static String description(String kind, int n, int d) {
        int nlist = IndexType.nlist(n);
        if (kind.startsWith("ivfpq")) {
            int m = Integer.parseInt(kind.substring("ivfpq".length()));
            if (d % m != 0) {
                throw new IllegalArgumentException("PQ" + m + " needs a dimension divisible by " + m + ", not " + d);
            }
            return "IVF" + nlist + ",PQ" + m + "np";
        }
        return switch (kind) {
            case "flat" -> "IDMap2,Flat";
            case "ivf" -> "IVF" + nlist + ",Flat";
            case "hnsw" -> "IDMap2,HNSW" + IndexType.HNSW_M + ",Flat";
            case "sq8" -> "IDMap2,SQ8";
            case "ivfsq8" -> "IVF" + nlist + ",SQ8";
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        };
    }

    private record Setting(String name, java.util.function.Consumer<FaissIndex> apply) {
        void apply(FaissIndex index) {
            apply.accept(index);
        }
    }

    private static List<Setting> settings(String description, int n) {
        List<Setting> settings = new ArrayList<>();
        if (description.startsWith("IVF")) {
            int nlist = IndexType.nlist(n);
            for (int nprobe : NPROBES) {
                if (nprobe <= nlist) {
                    settings.add(new Setting("nprobe " + nprobe, i -> i.setNprobe(nprobe)));
                }
            }
        } else if (description.contains("HNSW")) {
            for (int ef : EF_SEARCHES) {
                settings.add(new Setting("efSearch " + ef, i -> i.setEfSearch(ef)));
            }
        } else {
            settings.add(new Setting("-", i -> {}));
        }
        return settings;
    }

    private record Measured(double p50Micros, double p99Micros, double recall) {}

    /** Every query alone, timed; the first {@value #WARMUP} once more before, untimed. */
    private static Measured measure(FaissIndex index, float[] queries, int d, long[][] truth) {
        int nq = truth.length;
        for (int q = 0; q < Math.min(WARMUP, nq); q++) {
            index.search(Arrays.copyOfRange(queries, q * d, (q + 1) * d), K);
        }
        double[] micros = new double[nq];
        int found = 0;
        for (int q = 0; q < nq; q++) {
            float[] query = Arrays.copyOfRange(queries, q * d, (q + 1) * d);
            long start = System.nanoTime();
            SearchResult result = index.search(query, K);
            micros[q] = (System.nanoTime() - start) / 1e3;
            Set<Long> exact = new HashSet<>();
            for (long id : truth[q]) {
                exact.add(id);
            }
            for (long id : result.ids(0)) {
                if (exact.contains(id)) {
                    found++;
                }
            }
        }
        Arrays.sort(micros);
        return new Measured(micros[(int) (0.50 * (nq - 1))], micros[(int) Math.ceil(0.99 * (nq - 1))],
                (double) found / (nq * K));
    }

    /**
     * {@code n} unit vectors of one category: a random unit centre plus Gaussian noise of norm about
     * {@code spread}, normalised (SyntheticLibrary's recipe).
     */
    static float[] category(int n, int d, double spread, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] centre = new double[d];
        for (int j = 0; j < d; j++) {
            centre[j] = gaussian(random);
        }
        normalise(centre);
        double noise = spread / Math.sqrt(d);
        float[] vectors = new float[Math.multiplyExact(n, d)];
        double[] v = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                v[j] = centre[j] + noise * gaussian(random);
            }
            normalise(v);
            for (int j = 0; j < d; j++) {
                vectors[i * d + j] = (float) v[j];
            }
        }
        return vectors;
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller: SplittableRandom has no nextGaussian in Java 17.
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    private static void normalise(double[] v) {
        double sum = 0;
        for (double x : v) {
            sum += x * x;
        }
        double scale = 1 / Math.sqrt(sum);
        for (int j = 0; j < v.length; j++) {
            v[j] *= scale;
        }
    }

    private static void printHeader(int d, int[] sizes, List<String> kinds, int queries, double spread)
            throws IOException {
        System.out.printf(Locale.ROOT, "date: %s%n", ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME));
        System.out.printf(Locale.ROOT, "machine: %s, %d cores, %s, %s %s, Java %s; load average %s%n", MachineFacts.cpuModel(),
                Runtime.getRuntime().availableProcessors(), MachineFacts.memory(), System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("java.version"), MachineFacts.loadAverage());
        System.out.printf(Locale.ROOT, "data: one category of %d-d unit vectors (spread %.2f), sizes %s, kinds %s;"
                        + " %d held-out queries of the category, each searched alone (k=%d, 1 OpenMP thread);"
                        + " builds with %d OpenMP thread(s)%n",
                d, spread, Arrays.toString(sizes), kinds, queries, K, buildThreads);
    }
}
