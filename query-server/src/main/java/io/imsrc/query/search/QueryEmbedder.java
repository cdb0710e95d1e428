package io.imsrc.query.search;

import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.io.Futures;
import io.imsrc.query.health.HealthCheck;
import io.imsrc.query.health.SupervisedLoop;
import io.imsrc.query.health.WorkerHealth;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds query images on a few model threads of its own instead of on the HTTP threads, which
 * bounds the model's memory and CPU to those threads however many requests arrive, and lets
 * queries that arrive together share one forward pass (request coalescing): a model thread takes
 * the oldest waiting query and, when coalescing, every other one waiting, up to {@code maxBatch}.
 * It never waits for more to arrive, so a lone query is embedded at once.
 *
 * <p>Each model thread is a {@link SupervisedLoop}: a forward pass that fails, with an Error too,
 * fails only the queries of its batch, and a thread that dies anyway is replaced; {@link
 * #healthCheck} tells /health/ready when a model thread is not running.
 *
 * <p>Thread-safe: any thread may call {@link #embed}. Owns its threads, not the embedder; {@link
 * #close} stops the threads and fails what still waits.
 */
public final class QueryEmbedder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueryEmbedder.class);

    private record Pending(float[] input, CompletableFuture<Embedding> result) {}

    private final Embedder embedder;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<SupervisedLoop> workers = new ArrayList<>();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong embedded = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param embedder the model, loaded with a batch size of at least {@code maxBatch}
     * @param threads model threads
     * @param maxBatch the most queries one forward pass takes; 1 turns coalescing off
     */
    public QueryEmbedder(Embedder embedder, int threads, int maxBatch) {
        this.embedder = Objects.requireNonNull(embedder, "embedder");
        if (threads < 1 || maxBatch < 1 || maxBatch > embedder.options().batchSize()) {
            throw new IllegalArgumentException("threads must be positive and maxBatch within 1.."
                    + embedder.options().batchSize() + ", got " + threads + " and " + maxBatch);
        }
        this.maxBatch = maxBatch;
        for (int i = 0; i < threads; i++) {
            WorkerHealth health = new WorkerHealth("query embedder",
                    "queries wait for the other model threads, or answer 503 after the request timeout", LOG);
            workers.add(new SupervisedLoop("query-embedder-" + i, health, this::embedNextBatch).start());
        }
    }

    /** For /health/ready: whether every model thread runs. */
    public HealthCheck healthCheck() {
        return new HealthCheck() {
            @Override
            public String name() {
                return "query_embedder";
            }

            @Override
            public Optional<String> problem() {
                return workers.stream().map(SupervisedLoop::problem).flatMap(Optional::stream).findFirst();
            }
        };
    }

    /**
     * Embeds one preprocessed image ({@code 3 x height x width} floats), waiting at most {@code
     * timeout}.
     *
     * @throws EmbeddingException when the forward pass fails
     * @throws TimeoutException when the model threads are too busy to answer in time
     */
    public Embedding embed(float[] input, long timeout, TimeUnit unit)
            throws EmbeddingException, InterruptedException, TimeoutException {
        if (closed) {
            throw new IllegalStateException("the query embedder is closed");
        }
        Pending pending = new Pending(input, new CompletableFuture<>());
        queue.add(pending);
        try {
            return pending.result().get(timeout, unit);
        } catch (ExecutionException e) {
            throw Futures.failure(e, EmbeddingException.class,
                    cause -> new EmbeddingException("embedding the query failed: " + cause, cause));
        } catch (TimeoutException e) {
            pending.result().cancel(false);
            throw e;
        }
    }

    /** One turn of a model thread: waits for a query, takes what else waits, and embeds them. */
    private void embedNextBatch() throws InterruptedException {
        List<Pending> batch = new ArrayList<>(maxBatch);
        batch.add(queue.take());
        try {
            queue.drainTo(batch, maxBatch - 1);
            batch.removeIf(p -> p.result().isCancelled());
            if (!batch.isEmpty()) {
                run(batch);
            }
        } catch (Throwable t) {
            // Taken from the queue, so nobody else answers them.
            batch.forEach(p -> p.result().completeExceptionally(t));
            throw t;
        }
    }

    private void run(List<Pending> batch) {
        List<float[]> inputs = new ArrayList<>(batch.size());
        batch.forEach(p -> inputs.add(p.input()));
        try {
            List<Embedding> embeddings = embedder.embed(inputs);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(embeddings.get(i));
            }
            batches.incrementAndGet();
            embedded.addAndGet(batch.size());
        } catch (EmbeddingException | RuntimeException e) {
            LOG.warn("A query batch of {} failed: {}", batch.size(), e.toString());
            batch.forEach(p -> p.result().completeExceptionally(e));
        } catch (Error e) {
            // Out of memory in the model, or a native library's error: the queries fail, the thread goes on.
            LOG.error("A query batch of {} failed", batch.size(), e);
            batch.forEach(p -> p.result().completeExceptionally(e));
        }
    }

    /** Queries embedded per forward pass so far, on average (1 without coalescing). */
    public double meanBatchSize() {
        long n = batches.get();
        return n == 0 ? 0 : (double) embedded.get() / n;
    }

    @Override
    public void close() {
        closed = true;
        workers.forEach(SupervisedLoop::close);
        for (Pending p; (p = queue.poll()) != null; ) {
            p.result().completeExceptionally(new IllegalStateException("the query embedder is closed"));
        }
    }
}
