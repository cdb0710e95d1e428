package io.imsrc.ingest;

import io.imsrc.testing.BenchmarkArguments;
import io.imsrc.testing.SharedFiles;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes a labelled tar archive of N distinct real images for the ingest at scale
 * (docs/benchmarks.md, "The job at scale"), run on demand: CIFAR-10's 60,000 images
 * ({@code shared/datasets/cifar-10-jpg.tar.gz}), each in up to {@value #VARIANTS} variants made
 * distinct by a crop (scaled back to 32x32), a horizontal flip and a JPEG re-encoding at another
 * quality, under {@code distinct-cifar/<class>/<split>-<n>-v<k>.jpg}. Variant 0 is every image
 * once, variant 1 every image again, and so on, so any N up to 300,000 covers the classes evenly.
 * Deterministic; bytes that should coincide anyway are one image to the job (its dedup).
 *
 * <pre>
 * java -cp "$CP" io.imsrc.ingest.DistinctCifarImages --n=250000 --out=/tmp/imsrc-job-distinct.tar
 * </pre>
 */
public final class DistinctCifarImages {

    static final int VARIANTS = 5;

    /** Variant k: crop origin and size within the 32x32 image, flip, JPEG quality. */
    private record Variant(int x, int y, int size, boolean flip, float quality) {}

    private static final List<Variant> VARIANT_LIST = List.of(
            new Variant(0, 0, 32, false, 0.92f),
            new Variant(2, 2, 28, true, 0.90f),
            new Variant(0, 3, 29, false, 0.88f),
            new Variant(3, 0, 30, true, 0.94f),
            new Variant(1, 1, 30, false, 0.86f));

    private DistinctCifarImages() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = BenchmarkArguments.parse(args);
        int n = Integer.parseInt(BenchmarkArguments.required(a, "n"));
        Path out = Path.of(BenchmarkArguments.required(a, "out"));
        long t0 = System.nanoTime();
        List<Map.Entry<String, byte[]>> sources = readCifar(SharedFiles.cifar10JpgArchive());
        if (n > sources.size() * VARIANTS) {
            throw new IllegalArgumentException("at most " + sources.size() * VARIANTS + " images, asked for " + n);
        }
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(file)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (int i = 0; i < n; i++) {
                int k = i / sources.size();
                Map.Entry<String, byte[]> source = sources.get(i % sources.size());
                // cifar-10-jpg/<split>/<class>/<nnnn>.jpg
                String[] parts = source.getKey().split("/");
                String name = "distinct-cifar/" + parts[2] + "/" + parts[1] + "-" + parts[3].replace(".jpg", "")
                        + "-v" + k + ".jpg";
                byte[] bytes = variant(source.getValue(), VARIANT_LIST.get(k));
                TarArchiveEntry entry = new TarArchiveEntry(name);
                entry.setSize(bytes.length);
                tar.putArchiveEntry(entry);
                tar.write(bytes);
                tar.closeArchiveEntry();
            }
        }
        System.out.printf("wrote %,d distinct images to %s (%,d MB) in %.1f s%n", n, out, Files.size(out) >> 20,
                (System.nanoTime() - t0) / 1e9);
    }

    /** Every image of the archive, in archive order, with its path. */
    private static List<Map.Entry<String, byte[]>> readCifar(Path archive) throws IOException {
        List<Map.Entry<String, byte[]>> images = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive)));
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.isFile() && entry.getName().endsWith(".jpg")) {
                    images.add(Map.entry(entry.getName(), tar.readAllBytes()));
                }
            }
        }
        return images;
    }

    static byte[] variant(byte[] jpeg, Variant v) throws IOException {
        BufferedImage source = ImageIO.read(new ByteArrayInputStream(jpeg));
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        int left = v.flip() ? v.x() + v.size() : v.x();
        int right = v.flip() ? v.x() : v.x() + v.size();
        g.drawImage(source, 0, 0, 32, 32, left, v.y(), right, v.y() + v.size(), null);
        g.dispose();
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(2048);
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(v.quality());
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
