package io.imsrc.common.faiss;

import io.imsrc.testing.MachineFacts;
import io.imsrc.testing.TestVectors;
import java.io.IOException;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Search latency of the three index types on random unit vectors with the inner-product
 * metric, and their recall@10 against the flat index. Run on demand (not a test); the
 * results go to docs/benchmarks.md under "FAISS search latency":
 *
 * <pre>
 * mvn -B -o -pl common -am process-test-classes -Pfaiss-benchmark
 * </pre>
 *
 * <p>Optional arguments, through {@code -Dfaiss.benchmark.args="..."}: the number of
 * vectors (60000), of rounds (3), and of OpenBLAS threads (0: leave OpenBLAS's default,
 * one per core; see {@link FaissThreads} for why 1 matters). Per index and setting it measures the mean time per
 * query of a batch of 1 query and of a batch of 64, each with 1 and with 2 OpenMP
 * threads. This machine is noisy, so each round measures every contender once, in
 * turn, and the table shows the median of the rounds with their range.
 */
public final class FaissSearchBenchmark {
    private static final int D = 64;
    private static final int K = 10;
    private static final int RECALL_QUERIES = 1_000;
    private static final int SINGLE_QUERIES = 200;
    private static final int BATCH = 64;
    private static final int BATCHES = 10;
    private static final int[] NPROBES = {16, 64, 256, 512};
    private static final int[] EF_SEARCHES = {32, 64, 128, 256, 512};
    private static final int[] THREADS = {1, 2};

    private FaissSearchBenchmark() {}

    public static void main(String[] args) throws IOException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 60_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int blasThreads = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        if (blasThreads > 0) {
            FaissThreads.setBlasThreads(blasThreads);
        }

        String loadBefore = MachineFacts.loadAverage();
        float[] base = TestVectors.randomUnitVectors(n, D, 1);
        long[] ids = TestVectors.distinctIds(n, 2);
        float[] queries = TestVectors.randomUnitVectors(RECALL_QUERIES, D, 3);
        float[][] single = new float[SINGLE_QUERIES][];
        for (int i = 0; i < SINGLE_QUERIES; i++) {
            single[i] = TestVectors.row(queries, D, i);
        }
        float[][] batches = new float[BATCHES][];
        for (int b = 0; b < BATCHES; b++) {
            batches[b] = Arrays.copyOfRange(queries, b * BATCH * D, (b + 1) * BATCH * D);
        }

        String ivfDescription = IndexType.IVFFLAT.spec(n, D).factoryDescription();
        String hnswDescription = IndexType.HNSW.spec(n, D).factoryDescription();
        if (!ivfDescription.startsWith("IVF")) {
            throw new IllegalArgumentException(n + " vectors are too few for IVF (IndexType falls back to "
                    + ivfDescription + "); use at least " + (long) IndexType.MIN_POINTS_PER_LIST * IndexType.nlist(n));
        }
        List<String> builds = new ArrayList<>();
        FaissThreads.setNumThreads(2);
        try (FaissIndex flat = build("IDMap2,Flat", base, ids, builds);
                FaissIndex ivf = build(ivfDescription, base, ids, builds);
                FaissIndex hnsw = build(hnswDescription, base, ids, builds)) {
            SearchResult truth = flat.search(queries, K);

            List<Contender> contenders = new ArrayList<>();
            contenders.add(new Contender("IDMap2,Flat", "exact", flat, () -> {}));
            for (int nprobe : NPROBES) {
                contenders.add(new Contender(ivfDescription, "nprobe " + nprobe, ivf, () -> ivf.setNprobe(nprobe)));
            }
            for (int ef : EF_SEARCHES) {
                contenders.add(new Contender(hnswDescription, "efSearch " + ef, hnsw, () -> hnsw.setEfSearch(ef)));
            }
            for (Contender c : contenders) {
                c.configure.run();
                FaissThreads.setNumThreads(2);
                c.recall = recall(truth, c.index.search(queries, K));
            }

            // One untimed round warms the JIT, the caches and the OpenMP pools.
            for (Contender c : contenders) {
                measure(c, single, batches);
            }
            for (int round = 0; round < rounds; round++) {
                for (Contender c : contenders) {
                    double[] perQuery = measure(c, single, batches);
                    for (int m = 0; m < perQuery.length; m++) {
                        c.runs.get(m).add(perQuery[m]);
                    }
                }
                System.err.printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
            }

            print(n, rounds, builds, contenders, loadBefore);
        }
    }

    private static FaissIndex build(String description, float[] base, long[] ids, List<String> builds) {
        long start = System.nanoTime();
        FaissIndex index = FaissIndex.create(D, description, Metric.INNER_PRODUCT);
        if (!index.isTrained()) {
            index.train(base);
        }
        index.addWithIds(base, ids);
        builds.add(String.format(Locale.ROOT, "%s %.1f s", description, (System.nanoTime() - start) / 1e9));
        return index;
    }

    /** Mean microseconds per query for batch 1 and batch 64, each with 1 and 2 OpenMP threads. */
    private static double[] measure(Contender c, float[][] single, float[][] batches) {
        c.configure.run();
        double[] perQuery = new double[2 * THREADS.length];
        int m = 0;
        for (int threads : THREADS) {
            FaissThreads.setNumThreads(threads);
            long start = System.nanoTime();
            for (float[] query : single) {
                c.index.search(query, K);
            }
            perQuery[m++] = (System.nanoTime() - start) / 1e3 / single.length;
        }
        for (int threads : THREADS) {
            FaissThreads.setNumThreads(threads);
            long start = System.nanoTime();
            for (float[] batch : batches) {
                c.index.search(batch, K);
            }
            perQuery[m++] = (System.nanoTime() - start) / 1e3 / (batches.length * BATCH);
        }
        FaissThreads.setNumThreads(2);
        return perQuery;
    }

    private static double recall(SearchResult truth, SearchResult result) {
        int found = 0;
        for (int q = 0; q < truth.queryCount(); q++) {
            long[] exact = truth.ids(q);
            for (long id : result.ids(q)) {
                if (Arrays.stream(exact).anyMatch(e -> e == id)) {
                    found++;
                }
            }
        }
        return (double) found / (truth.queryCount() * K);
    }

    private static void print(int n, int rounds, List<String> builds, List<Contender> contenders, String loadBefore)
            throws IOException {
        System.out.printf(Locale.ROOT, "date: %s%n", ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME));
        System.out.printf(Locale.ROOT, "machine: %s, %d cores, %s, %s %s, Java %s%n",
                MachineFacts.cpuModel(), Runtime.getRuntime().availableProcessors(), MachineFacts.memory(),
                System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("java.version"));
        // Other work on the machine changes the figures a lot, OpenMP's 2-thread ones most.
        System.out.printf(Locale.ROOT, "load average (1, 5, 15 min): %s before, %s after%n", loadBefore, MachineFacts.loadAverage());
        System.out.printf(Locale.ROOT, "data: %,d x %d random unit vectors, inner product; %,d queries for recall@%d,"
                        + " %d single queries and %d batches of %d for latency; median of %d rounds%n",
                n, D, RECALL_QUERIES, K, SINGLE_QUERIES, BATCHES, BATCH, rounds);
        System.out.println("OpenBLAS threads: " + FaissThreads.blasThreads());
        System.out.println("builds (2 OpenMP threads): " + String.join(", ", builds));
        System.out.println();
        System.out.println("| index | setting | recall@10 | batch 1, 1 thread | batch 1, 2 threads"
                + " | batch 64, 1 thread | batch 64, 2 threads |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|");
        for (Contender c : contenders) {
            StringBuilder row = new StringBuilder();
            row.append(String.format(Locale.ROOT, "| %s | %s | %.3f |", c.description, c.setting, c.recall));
            for (List<Double> runs : c.runs) {
                row.append(' ').append(medianWithRange(runs)).append(" |");
            }
            System.out.println(row);
        }
        System.out.println();
        System.out.println("Latency in microseconds per query: median of the rounds (min-max).");
    }

    private static String medianWithRange(List<Double> runs) {
        double[] sorted = runs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted.length % 2 == 1
                ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return String.format(Locale.ROOT, "%s (%s-%s)", micros(median), micros(sorted[0]), micros(sorted[sorted.length - 1]));
    }

    private static String micros(double value) {
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.1f", value);
    }

    /** One index at one search setting, with its measurements. */
    private static final class Contender {
        final String description;
        final String setting;
        final FaissIndex index;
        final Runnable configure;
        double recall;
        /** Per measurement mode (see {@link #measure}), the per-query time of each round. */
        final List<List<Double>> runs = new ArrayList<>();

        Contender(String description, String setting, FaissIndex index, Runnable configure) {
            this.description = description;
            this.setting = setting;
            this.index = index;
            this.configure = configure;
            for (int m = 0; m < 2 * THREADS.length; m++) {
                runs.add(new ArrayList<>());
            }
        }
    }
}
