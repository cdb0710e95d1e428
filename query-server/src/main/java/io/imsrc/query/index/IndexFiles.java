package io.imsrc.query.index;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.faiss.IndexSpec;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.io.FileTrees;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves a generation of the indexes under FAISS_INDEX_PATH and reads it back.
 *
 * <p>Layout: FAISS_INDEX_PATH itself is a small JSON manifest (model, index type, watermark, and
 * one entry per category); beside it, a directory {@code <name>.parts-<n>} holds one FAISS file per
 * category and the held ids. A save writes a new parts directory, then moves the manifest into
 * place atomically, then deletes older parts directories, so a crash in the middle leaves the
 * previous save readable.
 */
final class IndexFiles {

    private static final Logger LOG = LoggerFactory.getLogger(IndexFiles.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FORMAT = 1;

    private IndexFiles() {}

    /** The manifest's content. */
    record Manifest(int format, String modelId, String indexType, int dimension, long newestSeq,
            long newestCreatedAtMillis, long builtAtMillis, String partsDirectory, List<Part> categories,
            long vectorCount) {}

    /**
     * One category's file.
     *
     * @param nprobe the IVF lists its search visits, as its build calibrated them; null for other
     *     kinds and in manifests written before calibration (then the spec's default)
     */
    record Part(String category, String file, String description, long size, Integer nprobe) {}

    /** Writes {@code snapshot} and returns its manifest. */
    static Manifest save(IndexSnapshot snapshot, Path manifestPath) throws IOException {
        Path dir = manifestPath.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String partsName = manifestPath.getFileName() + ".parts-" + System.currentTimeMillis();
        Path parts = Files.createDirectories(dir.resolve(partsName));
        List<Part> entries = new ArrayList<>();
        int n = 0;
        long count = 0;
        for (CategoryIndex index : snapshot.categoryIndexes()) {
            String file = (n++) + ".faiss";
            index.write(parts.resolve(file));
            entries.add(new Part(index.category(), file, index.spec().factoryDescription(), index.size(),
                    index.nprobe() > 0 ? index.nprobe() : null));
            count += index.size();
        }
        long[] ids = snapshot.heldIds();
        try (DataOutputStream out = new DataOutputStream(
                new BufferedOutputStream(Files.newOutputStream(parts.resolve("ids.bin")), 1 << 16))) {
            out.writeInt(ids.length);
            for (long id : ids) {
                out.writeLong(id);
            }
        }
        Manifest manifest = new Manifest(FORMAT, snapshot.modelId(), snapshot.type().configValue(), snapshot.dimension(),
                snapshot.newestSeq(), snapshot.newestCreatedAtMillis(), snapshot.builtAtMillis(), partsName, entries,
                count);
        Path temporary = dir.resolve(manifestPath.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(temporary)) {
            JSON.writerWithDefaultPrettyPrinter().writeValue(out, manifest);
        }
        Files.move(temporary, manifestPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        deleteOlderParts(dir, manifestPath.getFileName() + ".parts-", partsName);
        return manifest;
    }

    /**
     * Reads the saved generation when it is one of this model and index type; empty when there is
     * none or it does not fit (then the caller rebuilds).
     */
    static Optional<IndexSnapshot> load(Path manifestPath, String modelId, IndexType type) {
        if (!Files.isRegularFile(manifestPath)) {
            return Optional.empty();
        }
        List<CategoryIndex> loaded = new ArrayList<>();
        try {
            Manifest manifest;
            try (InputStream in = Files.newInputStream(manifestPath)) {
                manifest = JSON.readValue(in, Manifest.class);
            }
            if (manifest.format() != FORMAT || !manifest.modelId().equals(modelId)
                    || !manifest.indexType().equals(type.configValue())) {
                LOG.info("The saved index at {} is for {} / {}, not {} / {}: rebuilding", manifestPath,
                        manifest.modelId(), manifest.indexType(), modelId, type.configValue());
                return Optional.empty();
            }
            Path parts = manifestPath.toAbsolutePath().getParent().resolve(manifest.partsDirectory());
            for (Part part : manifest.categories()) {
                loaded.add(CategoryIndex.read(part.category(), parts.resolve(part.file()),
                        IndexSpec.parse(part.description()), part.nprobe() == null ? 0 : part.nprobe()));
            }
            long[] ids;
            try (DataInputStream in = new DataInputStream(
                    new BufferedInputStream(Files.newInputStream(parts.resolve("ids.bin")), 1 << 16))) {
                ids = new long[in.readInt()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = in.readLong();
                }
            }
            return Optional.of(IndexSnapshot.restored(modelId, type, manifest.dimension(), manifest.builtAtMillis(),
                    loaded, ids, manifest.newestSeq(), manifest.newestCreatedAtMillis()));
        } catch (IOException | RuntimeException e) {
            loaded.forEach(CategoryIndex::close);
            LOG.warn("Cannot read the saved index at {} ({}): rebuilding", manifestPath, e.toString());
            return Optional.empty();
        }
    }

    private static void deleteOlderParts(Path dir, String prefix, String keep) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path old : entries) {
                if (!old.getFileName().toString().equals(keep) && Files.isDirectory(old)) {
                    FileTrees.deleteRecursively(old);
                }
            }
        }
    }
}
