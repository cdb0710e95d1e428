package io.imsrc.ingest.testing;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.testing.SharedFiles;
import java.io.BufferedInputStream;
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
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Real CIFAR-10 images from the shared JPEG archive, and the folders and archives the tests build
 * from them in their temporary directories (the shared folder is read-only).
 */
public final class CifarData {

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
        for (String label : ModelDescription.CIFAR10_LABELS) {
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

    /** A JPEG's pixels in CIFAR-10's binary layout: the red, green and blue planes. */
    public static byte[] planarPixels(byte[] image) throws Exception {
        DecodedImage decoded = ImageDecoder.decode(image);
        int area = decoded.width() * decoded.height();
        byte[] planes = new byte[3 * area];
        byte[] rgb = decoded.rgb();
        for (int p = 0; p < area; p++) {
            planes[p] = rgb[3 * p];
            planes[area + p] = rgb[3 * p + 1];
            planes[2 * area + p] = rgb[3 * p + 2];
        }
        return planes;
    }

    /** Binary records of samples, labelled with their class's CIFAR-10 index. */
    public static List<BinaryRecord> records(List<Sample> samples) throws Exception {
        List<BinaryRecord> records = new ArrayList<>();
        for (Sample sample : samples) {
            records.add(new BinaryRecord(ModelDescription.CIFAR10_LABELS.indexOf(sample.category()),
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
                        (String.join("\n", ModelDescription.CIFAR10_LABELS) + "\n\n").getBytes(StandardCharsets.US_ASCII));
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
