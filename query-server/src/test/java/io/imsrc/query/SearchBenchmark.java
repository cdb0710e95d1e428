package io.imsrc.query;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.common.faiss.FaissThreads;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.record.ImageId;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.query.index.CategoryIndex;
import io.imsrc.query.testing.TestServers;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.SharedFiles;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.postgresql.PGConnection;

/**
 * /search latency and throughput with all 60,000 CIFAR-10 images loaded, for each index type, next
 * to the bare embedder plus a bare FAISS search and next to the seed-peer baseline, all in one run;
 * request coalescing on and off; and the time from a vector's commit to its being searchable. Run
 * on demand (docs/benchmarks.md, "Search latency", has the command); not part of the test suite.
 *
 * <p>Load comes from wrk with {@code bench/search_load.lua} (the baseline's script plus p95) for
 * every contender alike: the same query image, the same options. Each round runs every contender
 * at every client count, in an order that alternates between rounds; the report gives the median
 * of the rounds.
 */
public final class SearchBenchmark {

    private static final String QUERY = "cifar-10-jpg/test/cat/0000.jpg";
    private static final String OPTIONS = "limit=10&use_prototypes=true&top_categories=3";
    private static final Pattern WRK = Pattern.compile(
            "requests=(\\d+) errors=(\\d+) rps=([\\d.]+) p50_ms=([\\d.]+) p90_ms=([\\d.]+) p95_ms=([\\d.]+) p99_ms=([\\d.]+)");

    /** @param server what the script reports of the responses' own timings, when it reads them (TIMINGS=1) */
    record Run(double rps, double p50, double p95, double p99, long errors, String server) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (String a : args) {
            String[] kv = a.replaceFirst("^--", "").split("=", 2);
            opts.put(kv[0], kv.length > 1 ? kv[1] : "true");
        }
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "3"));
        int seconds = Integer.parseInt(opts.getOrDefault("duration", "10"));
        List<Integer> clients = Arrays.stream(opts.getOrDefault("clients", "1,8,32").split(",")).map(Integer::parseInt).toList();
        List<String> types = List.of(opts.getOrDefault("types", "flatl2,ivfflat,hnsw").split(","));
        String seedPeer = opts.get("seedpeer"); // the baseline's /search URL, e.g. http://127.0.0.1:8100/search
        boolean coalescing = Boolean.parseBoolean(opts.getOrDefault("coalescing", "true"));
        int freshness = Integer.parseInt(opts.getOrDefault("freshness", "200"));
        Path dir = Path.of(opts.getOrDefault("data", "/tmp/imsrc-searchbench"));
        Path script = Path.of(opts.getOrDefault("script", "bench/search_load.lua")).toAbsolutePath();
        // More flat servers to compare in the same rounds, each with settings of its own over the
        // defaults: "name:KEY=VALUE+KEY=VALUE;name2:..." (for example "two threads:QUERY_EMBED_THREADS=2").
        Map<String, Map<String, String>> variants = variants(opts.getOrDefault("variants", ""));

        Path modelFile = SharedFiles.model("resnet20-cifar10.pt");
        ModelDescription description = ModelDescription.RESNET20_CIFAR10.withModel(modelFile.toString());
        ConfiguredModel model = new ConfiguredModel(description, ModelId.forFile(description.name(), modelFile),
                dir.resolve("models"));
        Map<String, byte[]> query = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(), List.of(QUERY));
        Path queryFile = dir.resolve("query.jpg");
        Files.createDirectories(dir);
        Files.write(queryFile, query.get(QUERY));

        System.out.printf("SearchBenchmark %s: %d cores, rounds=%d, %d s per run, clients=%s, types=%s%n",
                Instant.now(), Runtime.getRuntime().availableProcessors(), rounds, seconds, clients, types);
        try (EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                .withDataDirectory(dir.resolve("postgres")).withDatabase("searchbench"))) {
            ensureLoaded(postgres, description, model.modelId().value());

            bare(description, query.get(QUERY), postgres, model.modelId().value(), types);

            Map<String, QueryServer> servers = new LinkedHashMap<>();
            Map<String, String> urls = new LinkedHashMap<>();
            try {
                for (String type : types) {
                    QueryServer server = start(postgres, model, IndexType.parse(type), dir, 8);
                    servers.put("imsrc " + type, server);
                    urls.put("imsrc " + type, "http://127.0.0.1:" + server.port() + "/search?" + OPTIONS);
                }
                for (var variant : variants.entrySet()) {
                    Map<String, String> settings = new HashMap<>(Map.of("FAISS_INDEX_TYPE", "flatl2"));
                    settings.putAll(variant.getValue());
                    QueryServer server = start(postgres, model, settings, dir.resolve("variant-" + servers.size()));
                    servers.put(variant.getKey(), server);
                    urls.put(variant.getKey(), "http://127.0.0.1:" + server.port() + "/search?" + OPTIONS);
                }
                if (seedPeer != null) {
                    urls.put("seed-peer", seedPeer + "?" + OPTIONS);
                }
                for (String url : urls.values()) {
                    wrk(script, queryFile, url, 2, 3); // warm-up: JIT, caches
                }
                Map<String, List<Run>> results = measure(script, queryFile, urls, clients, rounds, seconds);
                report("/search, " + OPTIONS, results, clients);

                if (coalescing && types.contains("flatl2")) {
                    QueryServer single = start(postgres, model, IndexType.FLATL2, dir.resolve("nocoalesce"), 1);
                    servers.put("no coalescing", single);
                    Map<String, String> pair = new LinkedHashMap<>();
                    pair.put("flatl2, QUERY_BATCH_SIZE=8", urls.get("imsrc flatl2"));
                    pair.put("flatl2, QUERY_BATCH_SIZE=1", "http://127.0.0.1:" + single.port() + "/search?" + OPTIONS);
                    wrk(script, queryFile, pair.get("flatl2, QUERY_BATCH_SIZE=1"), 2, 3);
                    List<Integer> loaded = clients.stream().filter(c -> c > 1).toList();
                    report("coalescing", measure(script, queryFile, pair, loaded, rounds, seconds), loaded);
                    System.out.printf("mean query batch with coalescing: %.2f%n",
                            new ApiClient(servers.get("imsrc flatl2").port(), null).get("/status").json()
                                    .get("model").get("mean_query_batch").asDouble());
                }
                if (freshness > 0 && !servers.isEmpty()) {
                    freshness(postgres, servers.values().iterator().next(), model.modelId().value(), freshness);
                }
            } finally {
                for (QueryServer server : servers.values()) {
                    server.close();
                }
            }
        }
    }

    private static QueryServer start(EmbeddedPostgresServer postgres, ConfiguredModel model, IndexType type, Path dir,
            int batch) throws Exception {
        return start(postgres, model, Map.of("FAISS_INDEX_TYPE", type.configValue(), "QUERY_BATCH_SIZE",
                Integer.toString(batch)), dir.resolve("index-" + type.configValue() + "-" + batch));
    }

    private static QueryServer start(EmbeddedPostgresServer postgres, ConfiguredModel model,
            Map<String, String> settings, Path dir) throws Exception {
        Map<String, String> all = new HashMap<>(Map.of("INDEX_REFRESH_MS", "500"));
        all.putAll(settings);
        QueryServer server = QueryServer.start(TestServers.options(
                TestServers.services(postgres.jdbcUrl(), postgres.user(), model), dir.resolve("faiss.bin"), all));
        new ApiClient(server.port(), null).awaitReady(Duration.ofMinutes(5));
        return server;
    }

    private static Map<String, Map<String, String>> variants(String spec) {
        Map<String, Map<String, String>> variants = new LinkedHashMap<>();
        for (String variant : spec.split(";")) {
            if (variant.isBlank()) {
                continue;
            }
            String[] nameAndSettings = variant.split(":", 2);
            Map<String, String> settings = new LinkedHashMap<>();
            if (nameAndSettings.length > 1 && !nameAndSettings[1].isBlank()) {
                for (String kv : nameAndSettings[1].split("\\+")) {
                    String[] parts = kv.split("=", 2);
                    settings.put(parts[0].trim(), parts[1].trim());
                }
            }
            variants.put(nameAndSettings[0].trim(), settings);
        }
        return variants;
    }

    /** All 60,000 images of the archive with their vectors and prototypes, unless they are there already. */
    private static void ensureLoaded(EmbeddedPostgresServer postgres, ModelDescription description, String modelId)
            throws Exception {
        try (Connection c = postgres.dataSource().getConnection()) {
            SchemaMigrations.migrate(c);
            if (count(c, "SELECT count(*) FROM vectors WHERE model_id = '" + modelId + "'") >= 60_000) {
                return;
            }
        }
        long start = System.nanoTime();
        try (Embedder embedder = Embedder.load(description, EmbedderOptions.builder().device(Device.CPU).batchSize(64).build());
                Connection c = postgres.dataSource().getConnection();
                InputStream file = Files.newInputStream(SharedFiles.cifar10JpgArchive());
                TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(new BufferedInputStream(file)))) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("TRUNCATE vectors, images, _category_prototypes, faiss CASCADE");
            }
            List<byte[]> batch = new ArrayList<>();
            List<String> categories = new ArrayList<>();
            Map<String, double[]> sums = new HashMap<>();
            Map<String, Integer> counts = new HashMap<>();
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                String[] parts = entry.getName().split("/");
                if (!entry.isFile() || !entry.getName().endsWith(".jpg") || parts.length < 4) {
                    continue;
                }
                batch.add(tar.readAllBytes());
                categories.add(parts[parts.length - 2]);
                if (batch.size() == 256) {
                    write(c, embedder, batch, categories, modelId, sums, counts);
                }
            }
            write(c, embedder, batch, categories, modelId, sums, counts);
            try (PreparedStatement p = c.prepareStatement("""
                    INSERT INTO _category_prototypes (category_id, model_id, prototype, image_count)
                    SELECT category_id, ?, ?, ? FROM categories WHERE category_name = ?""")) {
                for (var e : sums.entrySet()) {
                    float[] mean = new float[e.getValue().length];
                    for (int i = 0; i < mean.length; i++) {
                        mean[i] = (float) (e.getValue()[i] / counts.get(e.getKey()));
                    }
                    p.setString(1, modelId);
                    p.setArray(2, c.unwrap(PGConnection.class).createArrayOf("float4", mean));
                    p.setLong(3, counts.get(e.getKey()));
                    p.setString(4, e.getKey());
                    p.executeUpdate();
                }
            }
            c.commit();
            System.out.printf("loaded %d images with vectors in %.1f s%n", counts.values().stream().mapToInt(i -> i).sum(),
                    (System.nanoTime() - start) / 1e9);
        }
    }

    private static void write(Connection c, Embedder embedder, List<byte[]> batch, List<String> categories,
            String modelId, Map<String, double[]> sums, Map<String, Integer> counts) throws Exception {
        if (batch.isEmpty()) {
            return;
        }
        List<DecodedImage> decoded = new ArrayList<>();
        for (byte[] b : batch) {
            decoded.add(ImageDecoder.decode(b));
        }
        List<Embedding> embeddings = embedder.embedImages(decoded);
        try (PreparedStatement image = c.prepareStatement("""
                        INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                            category_assignment)
                        SELECT ?, category_id, ?, 'jpeg', 32, 32, sha256(?), 'cifar10', 'label'
                        FROM categories WHERE category_name = ? ON CONFLICT DO NOTHING""");
                PreparedStatement vector = c.prepareStatement(
                        "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (int i = 0; i < batch.size(); i++) {
                long id = ImageId.of(batch.get(i));
                image.setLong(1, id);
                image.setBytes(2, batch.get(i));
                image.setBytes(3, batch.get(i));
                image.setString(4, categories.get(i));
                image.addBatch();
                vector.setLong(1, id);
                vector.setString(2, modelId);
                vector.setArray(3, c.unwrap(PGConnection.class).createArrayOf("float4", embeddings.get(i).vector()));
                vector.addBatch();
                double[] sum = sums.computeIfAbsent(categories.get(i), k -> new double[embeddings.get(0).dimension()]);
                float[] v = embeddings.get(i).vector();
                for (int d = 0; d < v.length; d++) {
                    sum[d] += v[d];
                }
                counts.merge(categories.get(i), 1, Integer::sum);
            }
            image.executeBatch();
            vector.executeBatch();
        }
        batch.clear();
        categories.clear();
    }

    /** The bare costs: one query's decode + embed as the server runs the model, and one FAISS search over all vectors. */
    private static void bare(ModelDescription description, byte[] queryImage, EmbeddedPostgresServer postgres,
            String modelId, List<String> types) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        try (Embedder embedder = Embedder.load(description, EmbedderOptions.builder().device(Device.CPU).batchSize(8)
                .intraOpThreads(cores).build())) {
            float[] q = null;
            double[] ms = new double[400];
            for (int i = -100; i < ms.length; i++) {
                long t = System.nanoTime();
                DecodedImage image = ImageDecoder.decode(queryImage);
                q = embedder.embed(List.of(description.preprocess(image))).get(0).vector();
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
            }
            System.out.printf("bare decode+embed of the query, one at a time: p50 %.2f ms, p99 %.2f ms%n",
                    percentile(ms, 50), percentile(ms, 99));

            List<float[]> all = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            try (Connection c = postgres.dataSource().getConnection(); PreparedStatement s = c.prepareStatement(
                    "SELECT image_id, embedding FROM vectors WHERE model_id = ?")) {
                s.setString(1, modelId);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                        Float[] boxed = (Float[]) rs.getArray(2).getArray();
                        float[] v = new float[boxed.length];
                        for (int d = 0; d < v.length; d++) {
                            v[d] = boxed[d];
                        }
                        all.add(v);
                    }
                }
            }
            int dim = all.get(0).length;
            float[] flat = new float[all.size() * dim];
            for (int i = 0; i < all.size(); i++) {
                System.arraycopy(all.get(i), 0, flat, i * dim, dim);
            }
            long[] idArray = ids.stream().mapToLong(Long::longValue).toArray();
            FaissThreads.setNumThreads(1);
            for (String type : types) {
                try (CategoryIndex index = CategoryIndex.build("all", IndexType.parse(type), dim, flat, idArray)) {
                    double[] search = new double[1000];
                    for (int i = -200; i < search.length; i++) {
                        long t = System.nanoTime();
                        index.search(q, 10);
                        if (i >= 0) {
                            search[i] = (System.nanoTime() - t) / 1e6;
                        }
                    }
                    System.out.printf("bare FAISS %s (%s) over all %d vectors, k=10: p50 %.3f ms, p99 %.3f ms%n", type,
                            index.spec().factoryDescription(), idArray.length, percentile(search, 50), percentile(search, 99));
                }
            }
        }
    }

    private static Map<String, List<Run>> measure(Path script, Path queryFile, Map<String, String> urls,
            List<Integer> clients, int rounds, int seconds) throws Exception {
        Map<String, List<Run>> results = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(urls.keySet());
        for (int round = 0; round < rounds; round++) {
            List<String> order = new ArrayList<>(names);
            if (round % 2 == 1) {
                java.util.Collections.reverse(order);
            }
            for (int c : clients) {
                for (String name : order) {
                    Run run = wrk(script, queryFile, urls.get(name), c, seconds);
                    results.computeIfAbsent(name + " @" + c, k -> new ArrayList<>()).add(run);
                    System.out.printf("round %d  %-28s %2d clients: %7.1f req/s  p50 %7.2f  p95 %7.2f  p99 %7.2f ms  errors %d  load %s%s%n",
                            round + 1, name, c, run.rps(), run.p50(), run.p95(), run.p99(), run.errors(), load(),
                            run.server().isEmpty() ? "" : "\n         server-side " + run.server());
                }
            }
        }
        return results;
    }

    private static void report(String title, Map<String, List<Run>> results, List<Integer> clients) {
        System.out.println();
        System.out.println("### " + title + " (median of rounds)");
        System.out.println("| contender | clients | req/s | p50 ms | p95 ms | p99 ms | errors |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (var e : results.entrySet()) {
            List<Run> runs = e.getValue();
            String[] nameAndClients = e.getKey().split(" @");
            System.out.printf("| %s | %s | %.1f | %.2f | %.2f | %.2f | %d |%n", nameAndClients[0], nameAndClients[1],
                    median(runs.stream().mapToDouble(Run::rps).toArray()), median(runs.stream().mapToDouble(Run::p50).toArray()),
                    median(runs.stream().mapToDouble(Run::p95).toArray()), median(runs.stream().mapToDouble(Run::p99).toArray()),
                    runs.stream().mapToLong(Run::errors).sum());
        }
        System.out.println();
    }

    /** Commit to searchable: one vector per transaction, timed until the live index holds it. */
    private static void freshness(EmbeddedPostgresServer postgres, QueryServer server, String modelId, int n)
            throws Exception {
        ApiClient api = new ApiClient(server.port(), null);
        Random random = new Random(42);
        double[] seconds = new double[n];
        List<Long> ids = new ArrayList<>();
        try (Connection c = postgres.dataSource().getConnection(); PreparedStatement image = c.prepareStatement("""
                        INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                            category_assignment)
                        SELECT ?, category_id, ?, 'png', 1, 1, sha256(?), 'upload', 'label' FROM categories WHERE category_name = 'cat'""");
                PreparedStatement vector = c.prepareStatement(
                        "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, ?, ?)")) {
            for (int i = 0; i < n; i++) {
                byte[] bytes = ("freshness-" + System.nanoTime() + "-" + i).getBytes(StandardCharsets.US_ASCII);
                long id = ImageId.of(bytes);
                float[] v = new float[64];
                double norm = 0;
                for (int d = 0; d < v.length; d++) {
                    v[d] = (float) random.nextGaussian();
                    norm += v[d] * v[d];
                }
                for (int d = 0; d < v.length; d++) {
                    v[d] /= (float) Math.sqrt(norm);
                }
                c.setAutoCommit(false);
                image.setLong(1, id);
                image.setBytes(2, bytes);
                image.setBytes(3, bytes);
                image.executeUpdate();
                vector.setLong(1, id);
                vector.setString(2, modelId);
                vector.setArray(3, c.unwrap(PGConnection.class).createArrayOf("float4", v));
                vector.executeUpdate();
                c.commit();
                long committed = System.nanoTime();
                ids.add(id);
                // Searchable means the live index holds it. The poll goes over HTTP (GET /images/{id}),
                // so each sample includes up to one such request's round trip besides the refresh.
                while (!api.searchable(id)) {
                    Thread.onSpinWait();
                }
                seconds[i] = (System.nanoTime() - committed) / 1e6;
                Thread.sleep(random.nextInt(20));
            }
            c.setAutoCommit(true);
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM images WHERE image_id = ANY (?)")) {
                delete.setArray(1, c.createArrayOf("bigint", ids.toArray()));
                delete.executeUpdate();
            }
        }
        System.out.printf("commit to searchable, %d vectors one per transaction: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", n,
                percentile(seconds, 50), percentile(seconds, 99), percentile(seconds, 100));
    }

    private static Run wrk(Path script, Path queryFile, String url, int clients, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("wrk", "-t" + Math.min(2, clients), "-c" + clients, "-d" + seconds + "s",
                "--timeout", "30s", "-s", script.toString(), url).redirectErrorStream(true);
        pb.environment().put("QUERY_IMAGE", queryFile.toString());
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            r.lines().forEach(l -> out.append(l).append('\n'));
        }
        p.waitFor();
        Matcher m = WRK.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("wrk said: " + out);
        }
        Matcher server = Pattern.compile("^server (.*)$", Pattern.MULTILINE).matcher(out);
        return new Run(Double.parseDouble(m.group(3)), Double.parseDouble(m.group(4)), Double.parseDouble(m.group(6)),
                Double.parseDouble(m.group(7)), Long.parseLong(m.group(2)), server.find() ? server.group(1) : "");
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }

    private static long count(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static double median(double[] values) {
        return percentile(values, 50);
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
