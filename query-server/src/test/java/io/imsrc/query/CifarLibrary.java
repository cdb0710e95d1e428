package io.imsrc.query;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.image.InvalidImageException;
import io.imsrc.common.record.ImageId;
import io.imsrc.testing.BenchmarkArguments;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.SharedFiles;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Fills PostgreSQL with N distinct real images and the shipped model's embeddings of them, for the
 * benchmarks at scale beside {@link SyntheticLibrary} (run on demand): where the synthetic vectors
 * are isotropic noise around ten centres, the worst case for IVF and HNSW, these have the structure
 * of real images within a class.
 *
 * <p>The images, in this order, from the shared CIFAR-10 JPEG archive:
 *
 * <ol>
 *   <li>the 10,000 originals of the test split, stored unchanged as {@code cifar-test/<class>/<nnnn>.jpg}:
 *       the queries, none of them a variant of another stored image;
 *   <li>the 50,000 originals of the training split, unchanged, as {@code cifar-train/<class>/<nnnn>.jpg};
 *   <li>then variant after variant of every training image ({@link CifarVariant#ORDER}: the mirror
 *       image, then pad-4 crops at the other offsets, mirrored or not), each a JPEG encoded afresh at
 *       quality {@value #JPEG_QUALITY}, as {@code cifar-train/<class>/<nnnn>-crop-DX-DY[-flip].jpg}.
 * </ol>
 *
 * Within a split the classes take turns, so any N covers them evenly; 1,000,000 images are the test
 * split and 19.8 variants of each training image. An image whose bytes were already stored (or
 * generated earlier in the run) is skipped, so every row is a distinct file.
 *
 * <p>Each vector is what the ingest job computes for the stored bytes: the product's decoder ({@link
 * ImageDecoder}) on exactly those bytes, the model description's preprocessing, the shipped model
 * ({@link ModelDescription#DEFAULT}) through {@link Embedder}. Ids, hashes and prototypes are the
 * job's too ({@link LibraryWriter}).
 *
 * <p>A pipeline of three stages, so that the model's threads never wait for JPEG work or COPY: one
 * thread prepares batches of images (variant, JPEG encoding, decoding, preprocessing) a few batches
 * ahead; {@code --embedders} threads (one per core by default) embed them, each with one PyTorch
 * thread as the job's subtasks run; the calling thread writes them in order with COPY in chunks of
 * {@value LibraryWriter#CHUNK}, printing the rate after each chunk.
 *
 * <pre>
 * java -Dai.djl.offline=true -cp "$CP" io.imsrc.query.CifarLibrary \
 *     --jdbc-url=jdbc:postgresql://127.0.0.1:5432/imsrc --user=postgres --n=1000000 \
 *     [--model-id=imsrc-resnet20-cifar10-9b987b6486bc] [--first=0] [--batch=32] [--threads=1] [--embedders=CORES]
 * </pre>
 *
 * {@code --first} is the index in the sequence above of the first image to write, so that a second
 * call appends the images after those of the first, or continues one that was stopped: every chunk
 * commits its share of the prototypes with it, and its line says where to go on from.
 * {@code --model-id}, when given, must be the id of the model loaded. {@code --batch} is the
 * forward-pass size; {@code --threads} PyTorch's intra-op threads in each of the {@code --embedders}
 * threads (1 by default, as the job's subtasks run: on the shared 2-core machine one embedding thread
 * with one PyTorch thread kept 400-490 images/s where one with two PyTorch threads fell to 30-100
 * images/s while another process took a core).
 */
public final class CifarLibrary {

    static final float JPEG_QUALITY = 0.9f;

    /**
     * Images a preparation task hands over at once (five forward passes of 32; a divisor of the
     * writer's chunk, so chunks stay whole), and how many such batches are prepared ahead.
     */
    private static final int BATCH = 160;
    private static final int AHEAD = 4;

    private static final String ARCHIVE_ROOT = "cifar-10-jpg";
    private static final List<String> SPLITS = List.of("test", "train");

    /** What to write. */
    record Spec(long first, long count) {
        Spec {
            if (first < 0 || count < 0) {
                throw new IllegalArgumentException("bad CIFAR library: " + this);
            }
        }
    }

    /** A file of the archive: its split ({@code test} or {@code train}), class, number and bytes. */
    record Source(String split, int category, String number, byte[] jpeg) {

        String name() {
            return "cifar-" + split + "/" + CifarData.CLASSES.get(category) + "/" + number;
        }
    }

    /** Image {@code index} of the sequence: a source file in one of its variants. */
    record Item(long index, Source source, CifarVariant variant) {

        String originalName() {
            return source.name() + (variant.isOriginal() ? "" : "-" + variant.tag()) + ".jpg";
        }
    }

    /** The archive's two splits, each in the order the library takes them: classes in turn. */
    record Sources(List<Source> test, List<Source> train) {

        /** The number of images the sequence holds. */
        long size() {
            return test.size() + (long) train.size() * CifarVariant.ORDER.size();
        }

        Item item(long index) {
            if (index < 0 || index >= size()) {
                throw new IndexOutOfBoundsException("the sequence holds " + size() + " images, not image " + index);
            }
            if (index < test.size()) {
                return new Item(index, test.get((int) index), CifarVariant.ORIGINAL);
            }
            long j = index - test.size();
            return new Item(index, train.get((int) (j % train.size())), CifarVariant.ORDER.get((int) (j / train.size())));
        }
    }

    /** An image ready to embed: the bytes to store, their size and the model input. */
    record Prepared(Item item, byte[] bytes, int width, int height, float[] input) {}

    private CifarLibrary() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = BenchmarkArguments.parse(args);
        Spec spec = new Spec(Long.parseLong(a.getOrDefault("first", "0")),
                Long.parseLong(BenchmarkArguments.required(a, "n")));
        EmbedderOptions options = EmbedderOptions.builder()
                .device(Device.CPU)
                .batchSize(Integer.parseInt(a.getOrDefault("batch", Integer.toString(EmbedderOptions.DEFAULT_BATCH_SIZE))))
                .intraOpThreads(Integer.parseInt(a.getOrDefault("threads", "1")))
                .modelCacheDir(Path.of(System.getProperty("java.io.tmpdir"), "imsrc-models"))
                .build();
        int embeddingThreads = Integer.parseInt(a.getOrDefault("embedders",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        long t0 = System.nanoTime();
        Sources sources = read(SharedFiles.cifar10JpgArchive());
        System.out.printf("read %,d test and %,d training images in %.1f s%n", sources.test().size(),
                sources.train().size(), (System.nanoTime() - t0) / 1e9);
        try (Embedder embedder = Embedder.load(ModelDescription.DEFAULT, options);
                Connection c = DriverManager.getConnection(BenchmarkArguments.required(a, "jdbc-url"),
                        a.getOrDefault("user", "postgres"), a.get("password"))) {
            String modelId = embedder.modelId().value();
            if (a.containsKey("model-id") && !a.get("model-id").equals(modelId)) {
                throw new IllegalArgumentException("--model-id=" + a.get("model-id") + " but the shipped model loads as "
                        + modelId);
            }
            SchemaMigrations.migrate(c);
            long next = fill(c, embedder, sources, spec, embeddingThreads);
            System.out.printf("wrote %,d CIFAR-10 images and their %s vectors in %.1f s; the next image is --first=%d%n",
                    spec.count(), modelId, (System.nanoTime() - t0) / 1e9, next);
        }
    }

    /** Every JPEG of the archive, split by split, classes in turn ({@code <split>/<class>/<nnnn>.jpg}). */
    static Sources read(Path archive) throws IOException {
        List<Source> test = new ArrayList<>();
        List<Source> train = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16));
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                // cifar-10-jpg/<split>/<class>/<nnnn>.jpg
                String[] parts = entry.getName().replaceFirst("^\\./", "").split("/");
                if (!entry.isFile() || parts.length != 4 || !parts[0].equals(ARCHIVE_ROOT)
                        || !SPLITS.contains(parts[1]) || !parts[3].endsWith(".jpg")) {
                    continue;
                }
                int category = CifarData.CLASSES.indexOf(parts[2]);
                if (category < 0) {
                    throw new IOException("an image of no CIFAR-10 class in the archive: " + entry.getName());
                }
                Source source = new Source(parts[1], category, parts[3].substring(0, parts[3].length() - 4),
                        tar.readAllBytes());
                (parts[1].equals("test") ? test : train).add(source);
            }
        }
        Comparator<Source> turns = Comparator.comparing(Source::number).thenComparingInt(Source::category);
        test.sort(turns);
        train.sort(turns);
        return new Sources(List.copyOf(test), List.copyOf(train));
    }

    /**
     * Writes {@code spec.count()} images of the sequence from image {@code spec.first()} on, with
     * their vectors and the prototypes; returns the index of the image after the last one written
     * (the {@code --first} of a run that continues this one; each chunk's line says it too, for a run
     * that was stopped).
     */
    static long fill(Connection c, Embedder embedder, Sources sources, Spec spec, int embeddingThreads)
            throws SQLException, IOException, EmbeddingException, InterruptedException {
        try (LibraryWriter writer = LibraryWriter.open(c, embedder.modelId().value(), CifarData.CLASSES);
                Preparation preparation = new Preparation(sources, spec.first(), storedIds(c), embedder.description());
                EmbeddingStage embedding = new EmbeddingStage(embedder, embeddingThreads)) {
            Deque<Future<EmbeddedBatch>> ahead = new ArrayDeque<>();
            int depth = AHEAD + 2 * embeddingThreads;
            long asked = 0;
            long written = 0;
            long start = System.nanoTime();
            long waitNanos = 0;
            long writeNanos = 0;
            long next = spec.first();
            while (written < spec.count()) {
                while (ahead.size() < depth && asked < spec.count()) {
                    int size = (int) Math.min(BATCH, spec.count() - asked);
                    ahead.add(embedding.submit(preparation.submit(size)));
                    asked += size;
                }
                long waitStart = System.nanoTime();
                EmbeddedBatch batch = await(ahead.poll());
                waitNanos += System.nanoTime() - waitStart;
                for (int i = 0; i < batch.images().size(); i++) {
                    Prepared p = batch.images().get(i);
                    writer.add(new LibraryWriter.Row(p.item().source().category(), p.bytes(), "jpeg", p.width(),
                            p.height(), p.item().originalName(), batch.embeddings().get(i).vector()));
                }
                written += batch.images().size();
                next = batch.images().get(batch.images().size() - 1).item().index() + 1;
                if (writer.buffered() >= LibraryWriter.CHUNK || written == spec.count()) {
                    long writeStart = System.nanoTime();
                    writer.commitChunk();
                    writeNanos += System.nanoTime() - writeStart;
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("%,d of %,d rows in %.1f s: %.0f rows/s; the model busy %.0f thread-s "
                            + "(%.0f images/s a thread), preparing %.0f s, the writer waited %.0f s and COPY took "
                            + "%.0f s; committed up to %s, the next image is --first=%d%n", written, spec.count(),
                            seconds, written / seconds, embedding.busyNanos() / 1e9,
                            written / (embedding.busyNanos() / 1e9), preparation.busyNanos() / 1e9, waitNanos / 1e9,
                            writeNanos / 1e9, batch.images().get(batch.images().size() - 1).item().originalName(), next);
                }
            }
            writer.finish();
            if (preparation.skipped() > 0) {
                System.out.printf("skipped %,d images whose bytes were stored already%n", preparation.skipped());
            }
            return next;
        }
    }

    private static <T> T await(Future<T> future) throws IOException, EmbeddingException, InterruptedException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof EmbeddingException embedding) {
                throw embedding;
            }
            if (cause instanceof InvalidImageException invalid) {
                throw new IOException("an image the decoder refuses: " + invalid.getMessage(), invalid);
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("preparing or embedding images failed: " + cause, cause);
        }
    }

    /** The ids of the images stored already, so an append never repeats one. */
    private static Set<Long> storedIds(Connection c) throws SQLException {
        Set<Long> ids = new HashSet<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT image_id FROM images")) {
            while (r.next()) {
                ids.add(r.getLong(1));
            }
        }
        return ids;
    }

    /** A batch with its embeddings, in order. */
    record EmbeddedBatch(List<Prepared> images, List<Embedding> embeddings) {}

    /**
     * Embeds prepared batches on threads of its own, one model call at a time each (each thread gets
     * its own predictor from the embedder, as the job's subtasks do). A task waits for its batch's
     * preparation, so the results come in the order asked for when taken in that order. The caller
     * owns it and closes it before the embedder; closing stops the threads and waits for them.
     */
    private static final class EmbeddingStage implements AutoCloseable {

        private final Embedder embedder;
        private final ExecutorService threads;
        private final AtomicLong busyNanos = new AtomicLong();

        EmbeddingStage(Embedder embedder, int threads) {
            this.embedder = embedder;
            AtomicInteger number = new AtomicInteger();
            this.threads = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "cifar-library-embed-" + number.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }

        Future<EmbeddedBatch> submit(Future<List<Prepared>> prepared) {
            return threads.submit(() -> {
                List<Prepared> images = await(prepared);
                long start = System.nanoTime();
                List<Embedding> embeddings = embedder.embed(images.stream().map(Prepared::input).toList());
                busyNanos.addAndGet(System.nanoTime() - start);
                return new EmbeddedBatch(images, embeddings);
            });
        }

        /** Time spent in the model, summed over the threads. */
        long busyNanos() {
            return busyNanos.get();
        }

        @Override
        public void close() throws InterruptedException {
            threads.shutdownNow();
            if (!threads.awaitTermination(1, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the embedding threads do not stop");
            }
        }
    }

    /**
     * Walks the sequence and prepares its images, skipping bytes seen before, on a thread of its own
     * ({@link #submit}: batches in the order asked for). Its state (the JPEG writer, the ids seen, the
     * cache of decoded training images that each variant pass reuses, the position) is touched only
     * by that thread, one task after another. The caller owns it; closing stops the thread, waits for
     * it, then releases the JPEG writer.
     */
    private static final class Preparation implements AutoCloseable {

        private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cifar-library-prepare");
            t.setDaemon(true);
            return t;
        });
        private final AtomicLong busyNanos = new AtomicLong();
        private final Sources sources;
        private final Set<Long> seen;
        private final ModelDescription model;
        private final byte[][] trainPixels;
        private final ImageWriter jpegWriter = ImageIO.getImageWritersByFormatName("jpeg").next();
        private long nextIndex;
        private long skipped;

        Preparation(Sources sources, long first, Set<Long> seen, ModelDescription model) {
            this.sources = sources;
            this.nextIndex = first;
            this.seen = seen;
            this.model = model;
            this.trainPixels = new byte[sources.train().size()][];
        }

        /** The next {@code count} distinct images of the sequence, prepared on the preparing thread. */
        Future<List<Prepared>> submit(int count) {
            return thread.submit(() -> {
                long start = System.nanoTime();
                try {
                    return next(count);
                } finally {
                    busyNanos.addAndGet(System.nanoTime() - start);
                }
            });
        }

        long busyNanos() {
            return busyNanos.get();
        }

        private List<Prepared> next(int count) throws IOException, InvalidImageException {
            List<Prepared> batch = new ArrayList<>(count);
            while (batch.size() < count) {
                Item item = sources.item(nextIndex++);
                byte[] bytes = item.variant().isOriginal() ? item.source().jpeg()
                        : jpeg(item.variant().apply(trainPixels(item)));
                if (!seen.add(ImageId.of(bytes))) {
                    skipped++;
                    continue;
                }
                // What the job does with the stored bytes, whatever made them.
                DecodedImage decoded = ImageDecoder.decode(bytes);
                batch.add(new Prepared(item, bytes, decoded.width(), decoded.height(), model.preprocess(decoded)));
            }
            return batch;
        }

        long skipped() {
            return skipped;
        }

        private byte[] trainPixels(Item item) throws IOException, InvalidImageException {
            int k = (int) ((item.index() - sources.test().size()) % sources.train().size());
            if (trainPixels[k] == null) {
                DecodedImage decoded = ImageDecoder.decode(item.source().jpeg());
                if (decoded.width() != CifarVariant.SIDE || decoded.height() != CifarVariant.SIDE) {
                    throw new IOException(item.source().name() + " is " + decoded.width() + "x" + decoded.height()
                            + ", not 32x32");
                }
                trainPixels[k] = decoded.rgb();
            }
            return trainPixels[k];
        }

        private byte[] jpeg(byte[] rgb) throws IOException {
            BufferedImage image = new BufferedImage(CifarVariant.SIDE, CifarVariant.SIDE, BufferedImage.TYPE_INT_RGB);
            for (int p = 0; p < CifarVariant.SIDE * CifarVariant.SIDE; p++) {
                image.setRGB(p % CifarVariant.SIDE, p / CifarVariant.SIDE,
                        (rgb[3 * p] & 0xFF) << 16 | (rgb[3 * p + 1] & 0xFF) << 8 | (rgb[3 * p + 2] & 0xFF));
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(2048);
            try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
                jpegWriter.setOutput(stream);
                ImageWriteParam param = jpegWriter.getDefaultWriteParam();
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(JPEG_QUALITY);
                jpegWriter.write(null, new IIOImage(image, null, null), param);
            } finally {
                jpegWriter.reset();
            }
            return bytes.toByteArray();
        }

        @Override
        public void close() throws InterruptedException {
            thread.shutdownNow();
            try {
                if (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the preparing thread does not stop");
                }
            } finally {
                jpegWriter.dispose();
            }
        }
    }
}
