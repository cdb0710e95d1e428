package io.imsrc.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Retrieval quality of models as a user gets it: for each model, {@code bin/imsrc ingest} stores
 * CIFAR-10's 50,000 training images (the JPEG copy) through the Flink job, {@code bin/imsrc serve}
 * starts the query server on them, and every one of the 10,000 test images is sent to {@code POST
 * /search} twice, over all images ({@code use_prototypes=false}) and in two stages (the 3 best
 * categories by prototype); precision@10 is the share of the ten results whose category is the
 * query's. Run on demand (docs/benchmarks.md, "Retrieval quality", has the command); not part of
 * the test suite.
 *
 * <p>Options: {@code --models=imsrc-resnet20-cifar10,resnet20-cifar10} (a TorchScript model is
 * taken from the shared models), {@code --queries=10000} (the first N/10 test images of each
 * class), {@code --work=target/quality} (a DATA_DIR per model, kept for a rerun's ingest to be
 * skipped).
 */
public final class RetrievalQualityBenchmark {

    private static final Path IMSRC = Path.of("..", "bin", "imsrc").toAbsolutePath().normalize();
    private static final String TRAIN = "#cifar-10-jpg/train";

    private RetrievalQualityBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            options.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        List<String> models = Arrays.asList(options.getOrDefault("models", "imsrc-resnet20-cifar10,resnet20-cifar10")
                .split(","));
        int queries = Integer.parseInt(options.getOrDefault("queries", "10000"));
        Path work = Path.of(options.getOrDefault("work", "target/quality")).toAbsolutePath();
        List<CifarData.Sample> tests = CifarData.sample("test", queries / 10);
        System.out.printf(Locale.ROOT, "# retrieval quality, %d queries, cores %d, %s%n", tests.size(),
                Runtime.getRuntime().availableProcessors(), java.time.Instant.now());
        System.out.println("| model | ingest of 50,000 (s) | images/s | P@10, all images | P@10, 3 categories by prototype "
                + "| classifier accuracy of the answers | mean /search ms |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (String model : models) {
            Map<String, String> env = new LinkedHashMap<>();
            Path data = work.resolve(model);
            env.put("DATA_DIR", data.toString());
            env.put("MODEL_NAME", model);
            if (!model.startsWith("imsrc-")) {
                env.put("MODEL_PATH", SharedFiles.model(model + ".pt").toString());
            }
            env.put("FLINK_WEB_PORT", "0");
            double ingestSeconds = ingest(env, data);
            double[] result = query(env, data, tests);
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f | %.4f | %.4f | %.4f | %.1f |%n", model, ingestSeconds,
                    ingestSeconds > 0 ? 50_000 / ingestSeconds : 0, result[0], result[1], result[2], result[3]);
        }
    }

    /** Ingests the training split unless this DATA_DIR has it already; its wall time, or 0 when skipped. */
    private static double ingest(Map<String, String> env, Path data) throws Exception {
        if (Files.exists(data.resolve("ingest.done"))) {
            return 0;
        }
        long start = System.nanoTime();
        Process p = start(env, data.resolveSibling(data.getFileName() + "-ingest.log"), "ingest", "--no-uploads",
                "--source", SharedFiles.cifar10JpgArchive() + TRAIN);
        if (!p.waitFor(2, TimeUnit.HOURS) || p.exitValue() != 0) {
            throw new IllegalStateException("the ingest failed; see " + data.resolveSibling(data.getFileName() + "-ingest.log"));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Files.writeString(data.resolve("ingest.done"), Double.toString(seconds));
        return seconds;
    }

    /** P@10 over all images, P@10 in two stages, the predicted category's accuracy, mean latency. */
    private static double[] query(Map<String, String> env, Path data, List<CifarData.Sample> tests) throws Exception {
        int port = Ports.free();
        Map<String, String> serveEnv = new LinkedHashMap<>(env);
        serveEnv.put("API_HOST", "127.0.0.1");
        serveEnv.put("API_PORT", Integer.toString(port));
        Process server = start(serveEnv, data.resolveSibling(data.getFileName() + "-serve.log"), "serve");
        try {
            ApiClient api = new ApiClient(port, null);
            Waiting.until(() -> {
                if (!server.isAlive()) {
                    throw new IllegalStateException("imsrc serve exited with " + server.exitValue());
                }
                try {
                    return api.get("/health/ready").status() == 200;
                } catch (java.io.UncheckedIOException notYet) {
                    return false; // not listening yet
                }
            }, "the query server to load its index", Duration.ofMinutes(10));
            long hitsGlobal = 0;
            long hitsPrototypes = 0;
            long predicted = 0;
            long nanos = 0;
            for (CifarData.Sample sample : tests) {
                List<Part> file = List.of(Part.file("file", "q.jpg", sample.bytes()));
                long t0 = System.nanoTime();
                JsonNode global = ok(api.postMultipart("/search?limit=10&use_prototypes=false", file));
                long t1 = System.nanoTime();
                JsonNode twoStage = ok(api.postMultipart("/search?limit=10&use_prototypes=true&top_categories=3", file));
                nanos += System.nanoTime() - t1 + (t1 - t0);
                hitsGlobal += hits(global, sample.category());
                hitsPrototypes += hits(twoStage, sample.category());
                predicted += sample.category().equals(global.at("/predicted_category").asText()) ? 1 : 0;
            }
            double n = tests.size();
            return new double[] {hitsGlobal / (10 * n), hitsPrototypes / (10 * n), predicted / n, nanos / 1e6 / (2 * n)};
        } finally {
            server.destroy();
            server.waitFor(2, TimeUnit.MINUTES);
        }
    }

    private static JsonNode ok(ApiClient.Response response) {
        if (response.status() != 200) {
            throw new IllegalStateException("search answered " + response);
        }
        JsonNode results = response.json().get("results");
        if (results.size() != 10) {
            throw new IllegalStateException("search answered " + results.size() + " results, not 10: " + response);
        }
        return response.json();
    }

    private static long hits(JsonNode answer, String category) {
        long hits = 0;
        for (JsonNode result : answer.get("results")) {
            hits += category.equals(result.get("category").asText()) ? 1 : 0;
        }
        return hits;
    }

    private static Process start(Map<String, String> env, Path log, String... args) throws IOException {
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>();
        command.add(IMSRC.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("DB_") || k.startsWith("MODEL_") || k.startsWith("KAFKA_"));
        builder.environment().putAll(env);
        return builder.start();
    }
}
