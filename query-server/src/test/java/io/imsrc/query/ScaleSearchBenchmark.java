package io.imsrc.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.record.ImageId;
import io.imsrc.testing.BenchmarkArguments;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Search latency at scale through a running query server, without the model: GET
 * /images/{id}/similar (the stored vector as the query, both search stages, JSON) for a seeded
 * sample of stored images, at 1 client and at N clients, with p50/p99; and recall@10 of the
 * answers against those of a server run with an exact index on the same library.
 *
 * <p>Run it once against a server with FAISS_INDEX_TYPE=flatl2 and {@code --save=FILE} (the
 * exact answers), then against the index under test with {@code --exact=FILE}: the recall is the
 * share of the exact top 10 the other server returns for the same query, the same two stages.
 * {@code --query-like=PATTERN} draws the queries only from images whose original_name matches that
 * SQL LIKE pattern, for example {@code cifar-test/%} for the test originals of {@link CifarLibrary}'s
 * libraries (none of them a variant of another stored image).
 *
 * <p>With {@code --freshness=N} it then times commit to searchable: N new images with vectors
 * (random unit vectors, far from every category, so no other query's answers change), each
 * committed in a transaction of its own, each timed from its commit's return until the server's
 * GET /status shows the index holding it. They stay in the library, named {@code freshness/...},
 * and the query sample leaves them out.
 *
 * <pre>
 * java -cp "$CP" io.imsrc.query.ScaleSearchBenchmark --url=http://localhost:8300 \
 *     --jdbc-url=jdbc:postgresql://localhost:PORT/imsrc --model-id=imsrc-resnet20-cifar10-9b987b6486bc \
 *     --queries=300 --clients=8 --duration=20 --save=/tmp/flat-answers.txt   (or --exact=...) \
 *     [--query-like=cifar-test/%] [--freshness=100]
 * </pre>
 */
public final class ScaleSearchBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OPTIONS = "limit=10&use_prototypes=true&top_categories=3";

    private ScaleSearchBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = BenchmarkArguments.parse(args);
        String url = BenchmarkArguments.required(options, "url");
        int queries = Integer.parseInt(options.getOrDefault("queries", "300"));
        int clients = Integer.parseInt(options.getOrDefault("clients", "8"));
        int seconds = Integer.parseInt(options.getOrDefault("duration", "20"));
        long[] ids = sample(BenchmarkArguments.required(options, "jdbc-url"), options.getOrDefault("user", "postgres"),
                BenchmarkArguments.required(options, "model-id"), options.get("query-like"), queries);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        for (int i = 0; i < Math.min(50, ids.length); i++) {
            similar(http, url, ids[i]); // warm-up
        }
        Map<Long, List<Long>> answers = new LinkedHashMap<>();
        double[] single = new double[ids.length];
        for (int i = 0; i < ids.length; i++) {
            long start = System.nanoTime();
            answers.put(ids[i], similar(http, url, ids[i]));
            single[i] = (System.nanoTime() - start) / 1e6;
        }
        System.out.printf("1 client: %d queries, p50 %.2f ms, p99 %.2f ms%n", ids.length, percentile(single, 50),
                percentile(single, 99));

        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Future<List<Double>>> runs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int first = c;
            runs.add(pool.submit(() -> {
                List<Double> times = new ArrayList<>();
                for (int i = first; System.nanoTime() < end; i += clients) {
                    long start = System.nanoTime();
                    similar(http, url, ids[i % ids.length]);
                    times.add((System.nanoTime() - start) / 1e6);
                }
                return times;
            }));
        }
        List<Double> all = new ArrayList<>();
        for (Future<List<Double>> run : runs) {
            all.addAll(run.get());
        }
        pool.shutdown();
        double[] loaded = all.stream().mapToDouble(Double::doubleValue).toArray();
        System.out.printf("%d clients: %d queries in %d s, %.1f req/s, p50 %.2f ms, p99 %.2f ms%n", clients,
                loaded.length, seconds, loaded.length / (double) seconds, percentile(loaded, 50), percentile(loaded, 99));

        if (options.containsKey("save")) {
            List<String> lines = new ArrayList<>();
            answers.forEach((id, hits) -> lines.add(id + ":" + hits.stream().map(String::valueOf)
                    .reduce((a, b) -> a + "," + b).orElse("")));
            Files.write(Path.of(options.get("save")), lines);
        }
        if (options.containsKey("exact")) {
            Map<Long, Set<Long>> exact = new LinkedHashMap<>();
            for (String line : Files.readAllLines(Path.of(options.get("exact")))) {
                String[] parts = line.split(":", 2);
                Set<Long> hits = new HashSet<>();
                if (!parts[1].isEmpty()) {
                    Arrays.stream(parts[1].split(",")).map(Long::parseLong).forEach(hits::add);
                }
                exact.put(Long.parseLong(parts[0]), hits);
            }
            long found = 0;
            long wanted = 0;
            for (Map.Entry<Long, List<Long>> e : answers.entrySet()) {
                Set<Long> truth = exact.get(e.getKey());
                if (truth == null) {
                    throw new IllegalStateException("the exact answers lack query " + e.getKey() + ": same --queries?");
                }
                wanted += truth.size();
                found += e.getValue().stream().filter(truth::contains).count();
            }
            System.out.printf("recall@10 against the exact answers: %.4f (%d of %d)%n", found / (double) wanted, found,
                    wanted);
        }
        if (options.containsKey("freshness")) {
            double[] times = freshness(http, url, BenchmarkArguments.required(options, "jdbc-url"),
                    options.getOrDefault("user", "postgres"), BenchmarkArguments.required(options, "model-id"),
                    Integer.parseInt(options.get("freshness")));
            int slowest = 0;
            for (int i = 1; i < times.length; i++) {
                slowest = times[i] > times[slowest] ? i : slowest;
            }
            System.out.printf("commit to searchable: %d vectors, p50 %.2f ms, p99 %.2f ms, max %.2f ms (vector %d of"
                    + " %d)%n", times.length, percentile(times, 50), percentile(times, 99), percentile(times, 100),
                    slowest + 1, times.length);
        }
    }

    /** Commits {@code n} new images one at a time; the milliseconds until the index held each. */
    private static double[] freshness(HttpClient http, String url, String jdbcUrl, String user, String modelId, int n)
            throws Exception {
        double[] times = new double[n];
        SplittableRandom random = new SplittableRandom(System.nanoTime());
        long base = (1L << 44) + (System.currentTimeMillis() % (1L << 30)) * 1_000; // beyond any library's indexes
        try (Connection c = DriverManager.getConnection(jdbcUrl, user, null)) {
            c.setAutoCommit(false);
            int dimension;
            int categoryId;
            try (PreparedStatement s = c.prepareStatement("SELECT array_length(embedding, 1), i.category_id FROM "
                    + "vectors v JOIN images i USING (image_id) WHERE v.model_id = ? LIMIT 1")) {
                s.setString(1, modelId);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    dimension = rs.getInt(1);
                    categoryId = rs.getInt(2);
                }
            }
            c.commit();
            long held = indexVectors(http, url);
            try (PreparedStatement image = c.prepareStatement("INSERT INTO images (image_id, category_id, image_data, "
                    + "format, width, height, content_hash, source, original_name, category_assignment) "
                    + "VALUES (?, ?, ?, 'png', 8, 8, ?, 'folder', ?, 'label')");
                 PreparedStatement vector = c.prepareStatement(
                         "INSERT INTO vectors (image_id, model_id, embedding) VALUES (?, ?, ?)")) {
                for (int i = 0; i < n; i++) {
                    byte[] png = SyntheticLibrary.png(base + i);
                    long id = ImageId.of(png);
                    image.setLong(1, id);
                    image.setInt(2, categoryId);
                    image.setBytes(3, png);
                    image.setBytes(4, ImageId.sha256(png));
                    image.setString(5, "freshness/" + (base + i) + ".png");
                    image.executeUpdate();
                    Float[] v = new Float[dimension];
                    double norm = 0;
                    double[] raw = new double[dimension];
                    for (int d = 0; d < dimension; d++) {
                        raw[d] = random.nextDouble() - 0.5;
                        norm += raw[d] * raw[d];
                    }
                    for (int d = 0; d < dimension; d++) {
                        v[d] = (float) (raw[d] / Math.sqrt(norm));
                    }
                    vector.setLong(1, id);
                    vector.setString(2, modelId);
                    vector.setArray(3, c.createArrayOf("real", v));
                    vector.executeUpdate();
                    c.commit();
                    long committed = System.nanoTime();
                    held++;
                    while (indexVectors(http, url) < held) {
                        Thread.sleep(1);
                    }
                    times[i] = (System.nanoTime() - committed) / 1e6;
                }
            }
        }
        return times;
    }

    private static long indexVectors(HttpClient http, String url) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url + "/status")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body()).path("index").path("vectors").asLong();
    }

    /**
     * {@code n} stored image ids, the same ones on every run for the same library (seeded by id
     * order), never those a freshness run added; with {@code nameLike}, only images whose
     * original_name matches that LIKE pattern.
     */
    private static long[] sample(String jdbcUrl, String user, String modelId, String nameLike, int n)
            throws Exception {
        String sql = "SELECT v.image_id FROM vectors v JOIN images i USING (image_id) WHERE v.model_id = ? "
                + "AND (i.original_name IS NULL OR i.original_name NOT LIKE 'freshness/%') "
                + (nameLike == null ? "" : "AND i.original_name LIKE ? ")
                + "ORDER BY hashint8(v.image_id), v.image_id LIMIT ?";
        try (Connection c = DriverManager.getConnection(jdbcUrl, user, null); PreparedStatement s = c.prepareStatement(sql)) {
            int p = 1;
            s.setString(p++, modelId);
            if (nameLike != null) {
                s.setString(p++, nameLike);
            }
            s.setInt(p, n);
            List<Long> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return ids.stream().mapToLong(Long::longValue).toArray();
        }
    }

    private static List<Long> similar(HttpClient http, String url, long id) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create(url + "/images/" + id + "/similar?" + OPTIONS)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET similar of " + id + ": " + response.statusCode() + " " + response.body());
        }
        List<Long> hits = new ArrayList<>();
        for (JsonNode hit : JSON.readTree(response.body()).path("results")) {
            hits.add(hit.path("image_id").asLong());
        }
        return hits;
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
