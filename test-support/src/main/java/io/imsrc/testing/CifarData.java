package io.imsrc.testing;

import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Real CIFAR-10 images from the shared JPEG archive, and the folders and archives the tests build
 * from them in their temporary directories (the shared folder is read-only).
 */
public final class CifarData {

    /**
     * The ten classes in the data set's own order (its batches.meta.txt): a binary record's label is
     * an index into it. The model's labels are the same list; common's ModelDescriptionTest holds them
     * together.
     */
    public static final List<String> CLASSES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    /** A file of the shared archive: its path there, its class and its bytes. */
    public record Sample(String path, String category, byte[] bytes) {}

    /** One record of a CIFAR-10 binary batch. */
    public record BinaryRecord(int label, byte[] pixels) {}

    private static final Map<String, List<Sample>> CACHE = new HashMap<>();

    private CifarData() {}

    /**
     * The first {@code perClass} images of each class of a split ({@code train} or {@code test}) of
     * the shared archive, class by class in CIFAR order.
     */
    public static synchronized List<Sample> sample(String split, int perClass) throws IOException {
        String key = split + "/" + perClass;
        List<Sample> cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        Map<String, List<Sample>> byClass = new LinkedHashMap<>();
        for (String label : CLASSES) {
            byClass.put(label, new ArrayList<>());
        }
        String prefix = "cifar-10-jpg/" + split + "/";
        try (InputStream file = Files.newInputStream(SharedFiles.cifar10JpgArchive());
                TarArchiveInputStream tar = new TarArchiveInputStream(
                        new GZIPInputStream(new BufferedInputStream(file, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                String name = entry.getName();
                if (!entry.isFile() || !name.startsWith(prefix)) {
                    continue;
                }
                String category = name.substring(prefix.length(), name.lastIndexOf('/'));
                List<Sample> samples = byClass.get(category);
                if (samples != null && samples.size() < perClass) {
                    samples.add(new Sample(name, category, tar.readAllBytes()));
                }
            }
        }
        List<Sample> all = new ArrayList<>();
        byClass.values().forEach(all::addAll);
        CACHE.put(key, List.copyOf(all));
        return CACHE.get(key);
    }

    /**
     * The images {@code firstIndex .. firstIndex+perClass-1} (their file numbers) of each class of a
     * split, class by class: the same files whatever order the archive holds them in.
     */
    public static List<Sample> numbered(String split, int firstIndex, int perClass) throws IOException {
        List<String> names = new ArrayList<>();
        for (String category : CLASSES) {
            for (int i = firstIndex; i < firstIndex + perClass; i++) {
                names.add("cifar-10-jpg/" + split + "/" + category + "/" + String.format("%04d.jpg", i));
            }
        }
        Map<String, byte[]> files = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(), names);
        List<Sample> samples = new ArrayList<>();
        for (String name : names) {
            String category = name.substring(0, name.lastIndexOf('/'));
            samples.add(new Sample(name, category.substring(category.lastIndexOf('/') + 1), files.get(name)));
        }
        return samples;
    }

    /**
     * An RGB image's pixels (a CIFAR JPEG, or the PNG the job stores) in CIFAR-10's binary layout:
     * the red, green and blue planes. Read with ImageIO: these images have neither transparency nor
     * a colour profile, so it reads them as the product's decoder does.
     */
    public static byte[] planarPixels(byte[] image) throws IOException {
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(image));
        if (decoded == null) {
            throw new IOException("ImageIO cannot read this image");
        }
        int width = decoded.getWidth();
        int area = width * decoded.getHeight();
        byte[] planes = new byte[3 * area];
        for (int p = 0; p < area; p++) {
            int rgb = decoded.getRGB(p % width, p / width);
            planes[p] = (byte) (rgb >> 16);
            planes[area + p] = (byte) (rgb >> 8);
            planes[2 * area + p] = (byte) rgb;
        }
        return planes;
    }

    /** Binary records of samples, labelled with their class's CIFAR-10 index. */
    public static List<BinaryRecord> records(List<Sample> samples) throws IOException {
        List<BinaryRecord> records = new ArrayList<>();
        for (Sample sample : samples) {
            records.add(new BinaryRecord(CLASSES.indexOf(sample.category()),
                    planarPixels(sample.bytes())));
        }
        return records;
    }

    /**
     * Writes a CIFAR-10 binary archive in the official layout: cifar-10-batches-bin/ with
     * batches.meta.txt (the ten class names), the given batch files and a readme.html.
     */
    public static Path writeBinaryArchive(Path target, Map<String, List<BinaryRecord>> batches) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("cifar-10-batches-bin/", null);
        files.put("cifar-10-batches-bin/readme.html", "<html>test copy</html>".getBytes(StandardCharsets.UTF_8));
        boolean metaWritten = false;
        for (Map.Entry<String, List<BinaryRecord>> batch : batches.entrySet()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (BinaryRecord record : batch.getValue()) {
                bytes.write(record.label());
                bytes.write(record.pixels());
            }
            files.put("cifar-10-batches-bin/" + batch.getKey(), bytes.toByteArray());
            if (!metaWritten) { // the official archive lists the meta file after the first batch
                files.put("cifar-10-batches-bin/batches.meta.txt",
                        (String.join("\n", CLASSES) + "\n\n").getBytes(StandardCharsets.US_ASCII));
                metaWritten = true;
            }
        }
        return writeTar(target, files, true);
    }

    /** Writes a tar (gzip-compressed or not); a null content is a directory entry. */
    public static Path writeTar(Path target, Map<String, byte[]> files, boolean gzip) throws IOException {
        try (OutputStream file = Files.newOutputStream(target);
                OutputStream out = gzip ? new GZIPOutputStream(file) : file;
                TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(f.getKey());
                if (f.getValue() != null) {
                    entry.setSize(f.getValue().length);
                }
                tar.putArchiveEntry(entry);
                if (f.getValue() != null) {
                    tar.write(f.getValue());
                }
                tar.closeArchiveEntry();
            }
        }
        return target;
    }

    /** Writes a zip; a null content is a directory entry. */
    public static Path writeZip(Path target, Map<String, byte[]> files) throws IOException {
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(target))) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                zip.putNextEntry(new ZipEntry(f.getKey()));
                if (f.getValue() != null) {
                    zip.write(f.getValue());
                }
                zip.closeEntry();
            }
        }
        return target;
    }

    /** Writes files under a folder, creating the directories. */
    public static Path writeFolder(Path root, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path file = root.resolve(f.getKey());
            if (f.getValue() == null) {
                Files.createDirectories(file);
            } else {
                Files.createDirectories(file.getParent());
                Files.write(file, f.getValue());
            }
        }
        return root;
    }

    /** Samples as archive entries at their paths in the shared archive. */
    public static Map<String, byte[]> asFiles(List<Sample> samples) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (Sample sample : samples) {
            files.put(sample.path(), sample.bytes());
        }
        return files;
    }
}
