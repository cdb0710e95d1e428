package io.imsrc.common.embed;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.imsrc.common.io.NativeAllocator;
import io.imsrc.testing.SharedFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Embedder throughput against PyTorch's own runtime on the same model and batch size; run on
 * demand (see docs/benchmarks.md, "Embedder throughput", for the commands and the results).
 *
 * <p>The driver alternates the contenders: for each model and batch size, three rounds of fresh
 * Java worker JVMs and runs of {@code shared/bench/torch_embed_bench.py} (as it is, and with
 * glibc's malloc tuned through the environment as {@link NativeAllocator} tunes it in the JVM),
 * and reports the median of the three for each. Each contender runs the same protocol as the Python script: ten
 * warm-up calls, then three timed passes of ITERS calls, of which it reports the best.
 *
 * <ul>
 *   <li>{@code sweep}: the forward pass alone (a raw predictor on one reused input tensor, as the
 *       Python script does) and the full path ({@link Embedder#embed}: packing float[] CHW images,
 *       tensor creation, forward, copying out, L2 normalisation, softmax), at each batch size.
 *   <li>{@code variants}: the full path of ResNet-20 under different PyTorch settings (intra-op and
 *       inter-op threads, two predictors on two threads, graph optimiser off),
 *       and a stream of mixed batch sizes with and without padding to fixed shapes.
 * </ul>
 *
 * <p>{@code compare}: the full path of several models (the shipped one included) side by side,
 * alternating, at each batch size.
 *
 * <p>Options: {@code --mode=sweep|variants|compare --models=resnet20-cifar10,resnet56-cifar10
 * --batches=1,8,16,32,64,128,256 --rounds=3 --seconds=0.4} (the target length of one timed pass).
 */
public final class EmbedderBenchmark {

    private static final Pattern RESULT = Pattern.compile("RESULT forward=([0-9.]+) full=([0-9.]+)");
    private static final Pattern TORCH = Pattern.compile(": ([0-9]+) images/s");
    private static final int WARM_UP_CALLS = 10;
    /** What NativeAllocator sets inside the JVM, given to Python through glibc's environment. */
    private static final Map<String, String> TUNED_MALLOC = Map.of(
            "MALLOC_MMAP_THRESHOLD_", String.valueOf(NativeAllocator.MMAP_THRESHOLD_BYTES),
            "MALLOC_TRIM_THRESHOLD_", String.valueOf(NativeAllocator.TRIM_THRESHOLD_BYTES));
    private static final Map<String, String> TWO_PREDICTOR_THREADS =
            Map.of("predictors", "2", "intra", "1", "measure", "full");

    private EmbedderBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        if (options.containsKey("worker")) {
            Worker.run(options);
            return;
        }
        String mode = options.getOrDefault("mode", "sweep");
        List<String> models = List.of(options.getOrDefault("models", "resnet20-cifar10,resnet56-cifar10").split(","));
        int[] batches = Arrays.stream(options.getOrDefault("batches", "1,8,16,32,64,128,256").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "3"));
        double seconds = Double.parseDouble(options.getOrDefault("seconds", "0.4"));
        System.out.printf(Locale.ROOT, "# %s, %d rounds, cores %d, java %s%n",
                mode, rounds, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        if (mode.equals("compare")) {
            compare(models, batches, rounds, seconds);
        } else if (mode.equals("sweep")) {
            sweep(models, batches, rounds, seconds);
        } else if (mode.equals("variants")) {
            variants(batches, rounds, seconds);
        } else {
            throw new IllegalArgumentException("unknown mode " + mode + ": sweep or variants");
        }
    }

    // ---- driver ------------------------------------------------------------------------------

    private static void sweep(List<String> models, int[] batches, int rounds, double seconds) throws Exception {
        System.out.println("| model | batch | Java forward | Java full path | Java full path, 2 predictor threads "
                + "| PyTorch | PyTorch, malloc tuned | forward / PyTorch tuned | full / PyTorch tuned "
                + "| 2 threads / PyTorch tuned | rounds (forward; full; 2 threads; PyTorch; PyTorch tuned) | load |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        for (String model : models) {
            Path file = SharedFiles.model(model + ".pt");
            for (int batch : batches) {
                int iters = iterations(model, batch, seconds);
                List<Double> forward = new ArrayList<>();
                List<Double> full = new ArrayList<>();
                List<Double> twoThreads = new ArrayList<>();
                List<Double> torch = new ArrayList<>();
                List<Double> torchTuned = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    double[] java = runWorker(file, batch, iters, Map.of(), Map.of());
                    forward.add(java[0]);
                    full.add(java[1]);
                    torch.add(runTorch(file, batch, iters, Map.of()));
                    twoThreads.add(runWorker(file, batch, iters, TWO_PREDICTOR_THREADS, Map.of())[1]);
                    torchTuned.add(runTorch(file, batch, iters, TUNED_MALLOC));
                }
                double f = median(forward);
                double u = median(full);
                double w = median(twoThreads);
                double t = median(torch);
                double tt = median(torchTuned);
                System.out.printf(Locale.ROOT,
                        "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %s; %s; %s; %s; %s | %s |%n",
                        model, batch, f, u, w, t, tt, f / tt, u / tt, w / tt,
                        list(forward), list(full), list(twoThreads), list(torch), list(torchTuned), load());
            }
        }
    }

    /**
     * The full path of several models side by side, at each batch size: every round runs each
     * model once in a fresh JVM, the order turning from round to round; medians of the rounds and
     * each model's ratio to the first. For the shipped model against the TorchScript ResNet-20.
     */
    private static void compare(List<String> models, int[] batches, int rounds, double seconds) throws Exception {
        Map<String, Path> files = new LinkedHashMap<>();
        for (String model : models) {
            files.put(model, modelFile(model));
        }
        System.out.println("| model | batch | full path, images/s (median) | rounds | ratio to " + models.get(0) + " | load |");
        System.out.println("|---|---:|---:|---|---:|---|");
        for (int batch : batches) {
            Map<String, List<Double>> results = new LinkedHashMap<>();
            models.forEach(m -> results.put(m, new ArrayList<>()));
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < models.size(); i++) {
                    String model = models.get((i + round) % models.size());
                    int iters = iterations(model, batch, seconds);
                    results.get(model).add(
                            runWorker(files.get(model), batch, iters, Map.of("measure", "full"), Map.of())[1]);
                }
            }
            double first = median(results.get(models.get(0)));
            for (String model : models) {
                double m = median(results.get(model));
                System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %s | %.2f | %s |%n",
                        model, batch, m, list(results.get(model)), m / first, load());
            }
        }
    }

    /** A built-in model's file: a bundled one unpacked from the class path, the others from shared/models. */
    private static Path modelFile(String model) throws IOException {
        if (ModelDescription.BUNDLED.contains(model)) {
            return ModelLocator.resolve(ModelDescription.builtIn(model).model(),
                    Files.createTempDirectory("imsrc-bench-models"));
        }
        return SharedFiles.model(model + ".pt");
    }

    private static void variants(int[] batches, int rounds, double seconds) throws Exception {
        Path file = SharedFiles.model("resnet20-cifar10.pt");
        Map<String, Map<String, String>> variants = new LinkedHashMap<>();
        variants.put("defaults (intra-op 2, inter-op 2, optimiser on)", Map.of());
        variants.put("intra-op 1", Map.of("intra", "1"));
        variants.put("inter-op 1", Map.of("interop", "1"));
        variants.put("2 calling threads, a predictor each, intra-op 1", Map.of("threads", "2", "intra", "1"));
        variants.put("2 predictor threads inside the embedder, intra-op 1", Map.of("predictors", "2", "intra", "1"));
        variants.put("graph optimiser off", Map.of("optimizer", "false"));
        variants.put("malloc left untuned", Map.of("tune", "false"));
        System.out.println("| variant (ResNet-20, full path) | batch | img/s (median) | vs defaults | rounds | load |");
        System.out.println("|---|---:|---:|---:|---|---:|");
        for (int batch : batches) {
            int iters = iterations("resnet20-cifar10", batch, seconds);
            Map<String, List<Double>> results = new LinkedHashMap<>();
            for (int round = 0; round < rounds; round++) {
                for (Map.Entry<String, Map<String, String>> variant : variants.entrySet()) {
                    double[] java = runWorker(file, batch, iters, workerArgs(variant.getValue()), envOf(variant.getValue()));
                    results.computeIfAbsent(variant.getKey(), k -> new ArrayList<>()).add(java[1]);
                }
            }
            double base = median(results.values().iterator().next());
            for (Map.Entry<String, List<Double>> result : results.entrySet()) {
                double m = median(result.getValue());
                System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.2f | %s | %s |%n",
                        result.getKey(), batch, m, m / base, list(result.getValue()), load());
            }
        }
        mixedSizes(file, batches[batches.length - 1], rounds, seconds);
    }

    /** A stream of batches of random sizes, as micro-batching with a deadline produces. */
    private static void mixedSizes(Path file, int maxBatch, int rounds, double seconds) throws Exception {
        Map<String, Map<String, String>> variants = new LinkedHashMap<>();
        variants.put("no padding, optimiser on", Map.of("pad", "false"));
        variants.put("padding to powers of two, optimiser on", Map.of("pad", "true"));
        variants.put("no padding, optimiser off", Map.of("pad", "false", "optimizer", "false"));
        variants.put("padding to powers of two, optimiser off", Map.of("pad", "true", "optimizer", "false"));
        int images = (int) Math.max(maxBatch, seconds * 2000);
        System.out.println();
        System.out.printf(Locale.ROOT,
                "| mixed batch sizes 1..%d in one JVM (ResNet-20, full path) | img/s (median) | rounds |%n", maxBatch);
        System.out.println("|---|---:|---|");
        Map<String, List<Double>> results = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, Map<String, String>> variant : variants.entrySet()) {
                Map<String, String> args = new LinkedHashMap<>(variant.getValue());
                args.put("mixed", "true");
                double[] java = runWorker(file, maxBatch, images, args, Map.of());
                results.computeIfAbsent(variant.getKey(), k -> new ArrayList<>()).add(java[1]);
            }
        }
        for (Map.Entry<String, List<Double>> result : results.entrySet()) {
            System.out.printf(Locale.ROOT, "| %s | %.0f | %s |%n",
                    result.getKey(), median(result.getValue()), list(result.getValue()));
        }
    }

    private static Map<String, String> workerArgs(Map<String, String> variant) {
        Map<String, String> args = new LinkedHashMap<>();
        variant.forEach((k, v) -> {
            if (!k.startsWith("env:")) {
                args.put(k, v);
            }
        });
        return args;
    }

    private static Map<String, String> envOf(Map<String, String> variant) {
        Map<String, String> env = new LinkedHashMap<>();
        variant.forEach((k, v) -> {
            if (k.startsWith("env:")) {
                env.put(k.substring(4), v);
            }
        });
        return env;
    }

    /** Calls per timed pass so that a pass lasts about {@code seconds} at a rough throughput. */
    private static int iterations(String model, int batch, double seconds) {
        double roughImagesPerSecond = Math.min(2000, 150 * batch) / (model.startsWith("resnet56") ? 3.0 : 1.0);
        return (int) Math.max(2, Math.ceil(seconds * roughImagesPerSecond / batch));
    }

    private static double[] runWorker(
            Path model, int batch, int iters, Map<String, String> args, Map<String, String> env) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dai.djl.offline=true",
                "-Dimsrc.shared.dir=" + SharedFiles.sharedDir(),
                EmbedderBenchmark.class.getName(),
                "--worker", "--model=" + model, "--batch=" + batch, "--iters=" + iters));
        args.forEach((k, v) -> command.add("--" + k + "=" + v));
        String output = run(command, env);
        Matcher m = RESULT.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("the Java worker printed no result:\n" + output);
        }
        return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
    }

    private static double runTorch(Path model, int batch, int iters, Map<String, String> env) throws Exception {
        Path script = SharedFiles.sharedDir().resolve("bench").resolve("torch_embed_bench.py");
        String output = run(List.of("/usr/bin/python3", script.toString(), model.toString(),
                String.valueOf(batch), String.valueOf(iters)), env);
        Matcher m = TORCH.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("the PyTorch script printed no result:\n" + output);
        }
        return Double.parseDouble(m.group(1));
    }

    private static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        StringBuilder output = new StringBuilder();
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.contains("NNPACK")) { // PyTorch 2.7 repeats this warning on every call on this CPU
                    output.append(line).append('\n');
                }
            }
        }
        int exit = process.waitFor();
        if (exit != 0) {
            throw new IllegalStateException(command.get(0) + " exited with " + exit + ":\n" + output);
        }
        return output.toString();
    }

    /** The 1-minute load average, to show how busy the (shared) machine was. */
    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String list(List<Double> values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.length() == 0 ? "" : " ").append(Math.round(v));
        }
        return sb.toString();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("options look like --name=value, got " + arg);
            }
            int eq = arg.indexOf('=');
            options.put(eq < 0 ? arg.substring(2) : arg.substring(2, eq), eq < 0 ? "true" : arg.substring(eq + 1));
        }
        return options;
    }

    // ---- worker (one fresh JVM per measurement) ---------------------------------------------

    private static final class Worker {

        static void run(Map<String, String> args) throws Exception {
            Path model = Path.of(args.get("model"));
            int batch = Integer.parseInt(args.get("batch"));
            int iters = Integer.parseInt(args.get("iters"));
            int threads = Integer.parseInt(args.getOrDefault("threads", "1"));
            String file = model.getFileName().toString();
            String name = file.endsWith(".pt") || file.endsWith(".params") ? file.substring(0, file.lastIndexOf('.')) : file;
            ModelDescription description = ModelDescription.builtIn(name).withModel(model.toString());
            EmbedderOptions options = EmbedderOptions.builder()
                    .device(Device.CPU)
                    .batchSize(batch)
                    .intraOpThreads(Integer.parseInt(args.getOrDefault("intra", "0")))
                    .interOpThreads(Integer.parseInt(args.getOrDefault("interop", "0")))
                    .padBatches(Boolean.parseBoolean(args.getOrDefault("pad", "true")))
                    .graphOptimizer(Boolean.parseBoolean(args.getOrDefault("optimizer", "true")))
                    .tuneNativeAllocator(Boolean.parseBoolean(args.getOrDefault("tune", "true")))
                    .build();
            int predictors = Integer.parseInt(args.getOrDefault("predictors", "1"));
            try (Embedder embedder = Embedder.load(description, options);
                    PredictorPool pool = new PredictorPool(embedder, predictors)) {
                // "predictors": one call's batches spread over that many threads, each its own predictor
                EmbedCall embed = predictors == 1 ? embedder::embed : pool::embed;
                if (Boolean.parseBoolean(args.getOrDefault("mixed", "false"))) {
                    double full = mixed(embedder, embed, batch, iters);
                    System.out.printf(Locale.ROOT, "RESULT forward=0 full=%.1f%n", full);
                    return;
                }
                boolean fullOnly = args.getOrDefault("measure", "both").equals("full");
                double forward = threads == 1 && !fullOnly ? forward(embedder, batch, iters) : 0;
                double full = parallel(threads, () -> full(embedder, embed, batch, iters));
                System.out.printf(Locale.ROOT, "RESULT forward=%.1f full=%.1f%n", forward, full);
            }
        }

        /** The raw forward pass on one reused input, as torch_embed_bench.py measures PyTorch. */
        static double forward(Embedder embedder, int batch, int iters) throws Exception {
            try (NDManager manager = embedder.model().getNDManager().newSubManager();
                    Predictor<NDList, NDList> predictor = embedder.newRawPredictor()) {
                NDList input = new NDList(manager.randomUniform(0, 1, new Shape(batch, 3, 32, 32)));
                Timed call = () -> predictor.predict(input).close();
                return bestOfThree(call, batch, iters);
            }
        }

        static double full(Embedder embedder, EmbedCall embed, int batch, int iters) throws Exception {
            Random random = new Random(1);
            List<float[]> images = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                float[] image = new float[embedder.description().inputLength()];
                for (int j = 0; j < image.length; j++) {
                    image[j] = random.nextFloat();
                }
                images.add(image);
            }
            return bestOfThree(() -> embed.embed(images), batch, iters);
        }

        /** Micro-batches of seeded random sizes 1..maxBatch adding up to about {@code images}. */
        static double mixed(Embedder embedder, EmbedCall embed, int maxBatch, int images) throws Exception {
            Random random = new Random(7);
            List<List<float[]>> batches = new ArrayList<>();
            int total = 0;
            while (total < images) {
                int size = 1 + random.nextInt(maxBatch);
                List<float[]> batch = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    batch.add(new float[embedder.description().inputLength()]);
                }
                batches.add(batch);
                total += size;
            }
            for (List<float[]> batch : batches) { // every size once, as a long-running job would have
                embed.embed(batch);
            }
            double best = 0;
            for (int round = 0; round < 3; round++) {
                long start = System.nanoTime();
                for (List<float[]> batch : batches) {
                    embed.embed(batch);
                }
                best = Math.max(best, total / ((System.nanoTime() - start) / 1e9));
            }
            return best;
        }

        static double bestOfThree(Timed call, int batch, int iters) throws Exception {
            for (int i = 0; i < WARM_UP_CALLS; i++) {
                call.run();
            }
            double best = 0;
            for (int round = 0; round < 3; round++) {
                long start = System.nanoTime();
                for (int i = 0; i < iters; i++) {
                    call.run();
                }
                best = Math.max(best, (double) iters * batch / ((System.nanoTime() - start) / 1e9));
            }
            return best;
        }

        /** Runs the measurement on {@code threads} threads at once (each its own predictor); sums them. */
        static double parallel(int threads, Measurement measurement) throws Exception {
            if (threads == 1) {
                return measurement.run();
            }
            CyclicBarrier start = new CyclicBarrier(threads);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Double>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        return measurement.run();
                    }));
                }
                double sum = 0;
                for (Future<Double> result : results) {
                    sum += result.get();
                }
                return sum;
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @FunctionalInterface
    /** One embed call: the embedder's own, or spread over a {@link PredictorPool}. */
    private interface EmbedCall {
        List<Embedding> embed(List<float[]> images) throws Exception;
    }

    private interface Timed {
        void run() throws Exception;
    }

    @FunctionalInterface
    private interface Measurement {
        double run() throws Exception;
    }
}
