package io.imsrc.ingest;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.io.FileTrees;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.testing.BenchmarkArguments;
import io.imsrc.testing.SharedFiles;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * End-to-end ingest throughput, next to the bare embedder and the seed-peer baseline, run on
 * demand (docs/benchmarks.md, "Ingest throughput"). Every round runs each contender in a fresh
 * process, alternating them, and the report gives the median of the rounds.
 *
 * <ul>
 *   <li><b>pipeline</b>: the ingest job in a local Flink (as bin/imsrc runs it, without the
 *       dashboard) over the whole of {@code shared/datasets/cifar-10-jpg.tar.gz} into a fresh
 *       embedded PostgreSQL: listing the archive, reading, hashing, decoding, embedding, writing
 *       images, vectors and prototypes. Timed from submission to the job's end.
 *   <li><b>embedder</b>: {@link Embedder#embed} alone over the same images, decoded and
 *       preprocessed beforehand (untimed), in batches of the same size, from as many threads as
 *       the job's parallelism with PyTorch's threads shared out as the job shares them.
 *   <li><b>seed-peer</b>: the baseline's {@code populate} over the unpacked archive, through a
 *       script given with {@code --seedpeer=SCRIPT SPLIT LIMIT} that prints its images/s line.
 * </ul>
 *
 * <p>Options: {@code --rounds=3 --batch=256 --limit=0 --parallelism=1 --contenders=pipeline,embedder,seedpeer
 * --seedpeer=bench/seed-peer-populate.sh}. A contender may override options for itself, as in {@code
 * pipeline:parallelism=2:batch=64}.
 */
public final class IngestBenchmark {

    private static final Pattern RESULT = Pattern.compile("RESULT images=(\\d+) seconds=([0-9.]+)");
    private static final Pattern SEED = Pattern.compile("populated (\\d+) images in ([0-9.]+)s");

    private IngestBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = BenchmarkArguments.parse(args);
        String worker = options.get("worker");
        if (worker != null) {
            switch (worker) {
                case "pipeline" -> pipeline(options);
                case "embedder" -> embedder(options);
                default -> throw new IllegalArgumentException("unknown worker " + worker);
            }
            return;
        }
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "3"));
        List<String> contenders = List.of(options.getOrDefault("contenders", "pipeline,embedder,seedpeer").split(","));
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            for (String contender : contenders) {
                // A contender may carry its own options: pipeline:parallelism=2:batch=64
                String[] parts = contender.split(":");
                Map<String, String> own = new LinkedHashMap<>(options);
                own.remove("contenders");
                for (int i = 1; i < parts.length; i++) {
                    String[] kv = parts[i].split("=", 2);
                    own.put(kv[0], kv[1]);
                }
                double[] r = parts[0].equals("seedpeer") ? seedPeer(own) : javaWorker(parts[0], own);
                results.computeIfAbsent(contender, k -> new ArrayList<>()).add(r);
                System.out.printf(Locale.ROOT, "round %d %-9s %6.0f images in %7.1f s = %6.0f images/s  (load %s)%n",
                        round, contender, r[0], r[1], r[0] / r[1], load());
            }
        }
        System.out.println();
        System.out.println("| contender | images | median s | median images/s | rounds (images/s) |");
        System.out.println("|---|---:|---:|---:|---|");
        for (var e : results.entrySet()) {
            double[] rates = e.getValue().stream().mapToDouble(r -> r[0] / r[1]).toArray();
            double[] seconds = e.getValue().stream().mapToDouble(r -> r[1]).toArray();
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f | %.0f | %s |%n", e.getKey(), e.getValue().get(0)[0],
                    median(seconds), median(rates), Arrays.toString(Arrays.stream(rates).mapToLong(Math::round).toArray()));
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }

    private static double[] javaWorker(String worker, Map<String, String> options) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx4g", "-Dai.djl.offline=true", "-Dlog4j2.configurationFile=log4j2-test.xml",
                "-Dimsrc.shared.dir=" + SharedFiles.sharedDir(),
                "-cp", System.getProperty("java.class.path"), IngestBenchmark.class.getName(), "--worker=" + worker));
        options.forEach((k, v) -> command.add("--" + k + "=" + v));
        return run(command, RESULT);
    }

    private static double[] seedPeer(Map<String, String> options) throws Exception {
        String script = options.get("seedpeer");
        if (script == null) {
            throw new IllegalArgumentException("--seedpeer=SCRIPT is needed for the seedpeer contender");
        }
        String limit = options.getOrDefault("limit", "0");
        double images = 0;
        double seconds = 0;
        for (String split : List.of("train", "test")) {
            List<String> command = new ArrayList<>(List.of("bash", script, split));
            if (!limit.equals("0")) {
                long total = Long.parseLong(limit);
                command.add(Long.toString(split.equals("train") ? total * 5 / 6 : total / 6));
            }
            if (split.equals("test")) {
                command.add("--keep");
            }
            double[] r = run(command, SEED);
            images += r[0];
            seconds += r[1];
        }
        return new double[] {images, seconds};
    }

    private static double[] run(List<String> command, Pattern result) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        double[] found = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                Matcher m = result.matcher(line);
                if (m.find()) {
                    found = new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
                } else if (line.contains("Exception") || line.contains("ERROR") || line.contains("Error")) {
                    System.err.println("  | " + line);
                }
            }
        }
        if (process.waitFor() != 0 || found == null) {
            throw new IllegalStateException(command + " failed (exit " + process.exitValue() + ")");
        }
        return found;
    }

    /** One ingest of the archive into a fresh embedded PostgreSQL. */
    private static void pipeline(Map<String, String> options) throws Exception {
        int batch = Integer.parseInt(options.getOrDefault("batch", "256"));
        long limit = Long.parseLong(options.getOrDefault("limit", "0"));
        int parallelism = Integer.parseInt(options.getOrDefault("parallelism", "1"));
        Path temp = Files.createTempDirectory("imsrc-bench-");
        try (EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults())) {
            SchemaMigrations.migrate(postgres.dataSource());
            DatabaseOptions database = new DatabaseOptions(postgres.jdbcUrl(), postgres.user(), null);
            IngestJobOptions job = IngestJobOptions.builder()
                    .jobName("ingest benchmark")
                    .database(database)
                    .embedding(new io.imsrc.ingest.embed.EmbedSettings(IngestFixtures.resnet20(),
                            IngestFixtures.resnet20ModelId(), Device.CPU, new ImsrcConfig.BatchConfig(batch, 50),
                            io.imsrc.ingest.embed.EmbedSettings.AUTO_THREADS, temp.resolve("models").toString()))
                    .bulkSource(BulkSourceSpec.parse(SharedFiles.cifar10JpgArchive().toString()).withLimit(limit))
                    .parallelism(parallelism)
                    .checkpointIntervalMs(10_000)
                    .cacheDir(temp.resolve("cache"))
                    .checkpointDirectory(temp.resolve("checkpoints").toUri().toString())
                    .build();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(new Configuration());
            IngestJob.configure(env, job);
            long start = System.nanoTime();
            IngestTopology.Summary summary = IngestTopology.attach(env, job);
            env.execute(job.jobName());
            double seconds = (System.nanoTime() - start) / 1e9;
            long stored;
            try (Connection c = postgres.dataSource().getConnection(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM vectors")) {
                rs.next();
                stored = rs.getLong(1);
            }
            if (stored != summary.plannedImages()) {
                throw new IllegalStateException("stored " + stored + " vectors of " + summary.plannedImages() + " images");
            }
            System.out.printf(Locale.ROOT, "RESULT images=%d seconds=%.3f%n", stored, seconds);
        } finally {
            FileTrees.deleteRecursively(temp);
        }
    }

    /** The embedder alone over the archive's images, preprocessed beforehand. */
    private static void embedder(Map<String, String> options) throws Exception {
        int batch = Integer.parseInt(options.getOrDefault("batch", "256"));
        long limit = Long.parseLong(options.getOrDefault("limit", "0"));
        List<float[]> inputs = new ArrayList<>();
        try (InputStream file = Files.newInputStream(SharedFiles.cifar10JpgArchive());
                TarArchiveInputStream tar = new TarArchiveInputStream(
                        new GZIPInputStream(new BufferedInputStream(file, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null && (limit == 0 || inputs.size() < limit)) {
                if (entry.isFile()) {
                    inputs.add(IngestFixtures.resnet20().preprocess(ImageDecoder.decode(tar.readAllBytes())));
                }
            }
        }
        // As the job runs it: the cores shared out over the callers, as over a task manager's slots.
        int callers = Integer.parseInt(options.getOrDefault("parallelism", "1"));
        EmbedderOptions embedderOptions = new io.imsrc.ingest.embed.EmbedSettings(IngestFixtures.resnet20(),
                IngestFixtures.resnet20ModelId(), Device.CPU, new ImsrcConfig.BatchConfig(batch, 50),
                io.imsrc.ingest.embed.EmbedSettings.AUTO_THREADS,
                "unused").embedderOptions(Runtime.getRuntime().availableProcessors(), callers);
        try (Embedder embedder = Embedder.load(IngestFixtures.resnet20(), embedderOptions)) {
            List<Thread> threads = new ArrayList<>();
            int share = (inputs.size() + callers - 1) / callers;
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(callers + 1);
            for (int c = 0; c < callers; c++) {
                List<float[]> mine = inputs.subList(c * share, Math.min(inputs.size(), (c + 1) * share));
                Thread thread = new Thread(() -> {
                    try {
                        embedder.embed(mine.subList(0, Math.min(mine.size(), 4 * batch))); // warm-up
                        start.await();
                        for (int from = 0; from < mine.size(); from += batch) {
                            embedder.embed(mine.subList(from, Math.min(mine.size(), from + batch)));
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "caller-" + c);
                thread.start();
                threads.add(thread);
            }
            start.await();
            long begin = System.nanoTime();
            for (Thread thread : threads) {
                thread.join();
            }
            double seconds = (System.nanoTime() - begin) / 1e9;
            System.out.printf(Locale.ROOT, "RESULT images=%d seconds=%.3f%n", inputs.size(), seconds);
        }
    }
}
