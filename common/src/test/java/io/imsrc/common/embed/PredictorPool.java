package io.imsrc.common.embed;

import io.imsrc.common.image.DecodedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Spreads one call's images over several threads, each running its share through the embedder's
 * own predictor for that thread, while the caller waits. The embedder had this built in (a worker
 * pool behind {@code predictorThreads}); no production caller used it (docs/benchmarks.md found no
 * clear gain), so it lives beside the benchmark that measures it and the test that checks padded
 * batches over several threads give the same embeddings.
 *
 * <p>Owns its threads (daemons); close it to stop them. One caller at a time.
 */
final class PredictorPool implements AutoCloseable {

    private final Embedder embedder;
    private final int threads;
    private final ExecutorService pool;

    PredictorPool(Embedder embedder, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        this.embedder = embedder;
        this.threads = threads;
        this.pool = Executors.newFixedThreadPool(threads, task -> {
            Thread thread = new Thread(task, "predictor-pool");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * How many images go into each forward pass when {@code count} images are spread over {@code
     * workers} predictors: at most {@code batchSize}, and few enough that every worker gets one.
     */
    static int chunkSize(int count, int batchSize, int workers) {
        if (count < 1 || batchSize < 1 || workers < 1) {
            throw new IllegalArgumentException("count, batch size and workers must be positive");
        }
        return Math.min(batchSize, (count + workers - 1) / workers);
    }

    List<Embedding> embedImages(List<DecodedImage> images) throws Exception {
        List<float[]> inputs = new ArrayList<>(images.size());
        for (DecodedImage image : images) {
            inputs.add(embedder.description().preprocess(image));
        }
        return embed(inputs);
    }

    /** One embedding per image, in order, the images cut into at least one batch per thread. */
    List<Embedding> embed(List<float[]> images) throws Exception {
        if (images.isEmpty()) {
            return List.of();
        }
        int chunk = chunkSize(images.size(), embedder.options().batchSize(), threads);
        List<Future<List<Embedding>>> futures = new ArrayList<>();
        try {
            for (int from = 0; from < images.size(); from += chunk) {
                List<float[]> part = images.subList(from, Math.min(images.size(), from + chunk));
                futures.add(pool.submit(() -> embedder.embed(part)));
            }
            List<Embedding> out = new ArrayList<>(images.size());
            for (Future<List<Embedding>> future : futures) {
                out.addAll(future.get());
            }
            return out;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            for (Future<List<Embedding>> future : futures) {
                future.cancel(false);
            }
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
