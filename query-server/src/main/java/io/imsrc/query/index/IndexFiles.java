package io.imsrc.query.index;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.faiss.IndexSpec;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.io.FileTrees;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>A category that has not changed since the save before ({@link Written}: the same index object
 * at the same {@link CategoryIndex#version}) is not written again: its file in the new parts
 * directory is a hard link to the one already saved (still the same file, of the same size), which
 * no save ever writes over. At 1,000,000 vectors a save after a few new vectors wrote every
 * category's file (about 171 ms of a save of 419-580 ms on the refresh thread); now only the
 * categories the vectors went to. Where the file system has no hard links, the file is written.
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

    /**
     * What a save wrote: its parts directory, and for each category index the file and the {@link
     * CategoryIndex#version} it holds. Index objects are compared by identity, so those of another
     * generation never match.
     */
    record Written(Path parts, Map<CategoryIndex, Saved> files) {
        /** Nothing saved yet. */
        static final Written NONE = new Written(null, Map.of());

        /**
         * One category's file: its name in the parts directory, the index's version it holds, and
         * the file's identity and size as written, so that a file replaced since is never linked.
         */
        record Saved(String file, long version, Object fileKey, long size) {
            static Saved of(Path path, String file, long version) throws IOException {
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
                return new Saved(file, version, attributes.fileKey(), attributes.size());
            }

            /** Whether {@code path} is still this file, as written. */
            boolean isAt(Path path) {
                try {
                    BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
                    return fileKey != null && fileKey.equals(attributes.fileKey()) && size == attributes.size();
                } catch (IOException e) {
                    return false;
                }
            }
        }
    }

    /** A manifest, and what its save wrote (for the next save). */
    record Save(Manifest manifest, Written written) {}

    /**
     * Writes {@code snapshot}, linking the files of categories unchanged since {@code before} (the
     * save before, as its {@link Save} returned it) instead of writing them. Only on the thread
     * that changes the snapshot's indexes, so that none changes between its version read and its
     * file written.
     */
    static Save save(IndexSnapshot snapshot, Path manifestPath, Written before) throws IOException {
        Path dir = manifestPath.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path parts = newPartsDirectory(dir, manifestPath.getFileName() + ".parts-");
        String partsName = parts.getFileName().toString();
        List<Part> entries = new ArrayList<>();
        Map<CategoryIndex, Written.Saved> written = new IdentityHashMap<>();
        int n = 0;
        long count = 0;
        for (CategoryIndex index : snapshot.categoryIndexes()) {
            String file = (n++) + ".faiss";
            Path target = parts.resolve(file);
            long version = index.version(); // before the write: the file holds at least this version
            Written.Saved earlier = before.files().get(index);
            if (earlier == null || earlier.version() != version || parts.equals(before.parts())
                    || !earlier.isAt(before.parts().resolve(earlier.file()))
                    || !linked(before.parts().resolve(earlier.file()), target)) {
                if (Files.exists(target)) {
                    throw new IOException(target + " exists: a save never writes over a file");
                }
                index.write(target);
            }
            written.put(index, Written.Saved.of(target, file, version));
            entries.add(new Part(index.category(), file, index.spec().factoryDescription(), index.size(),
                    index.nprobe() > 0 ? index.nprobe() : null));
            count += index.size();
        }
        writeIds(snapshot.heldIds(), parts.resolve(IDS));
        Manifest manifest = new Manifest(FORMAT, snapshot.modelId(), snapshot.type().configValue(), snapshot.dimension(),
                snapshot.newestSeq(), snapshot.newestCreatedAtMillis(), snapshot.builtAtMillis(), partsName, entries,
                count);
        Path temporary = dir.resolve(manifestPath.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(temporary)) {
            JSON.writerWithDefaultPrettyPrinter().writeValue(out, manifest);
        }
        Files.move(temporary, manifestPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        deleteOlderParts(dir, manifestPath.getFileName() + ".parts-", partsName);
        return new Save(manifest, new Written(parts, written));
    }

    /**
     * A new, empty parts directory named for the time, never one a save made before (two saves in
     * one millisecond would otherwise write into the directory the current manifest names).
     */
    private static Path newPartsDirectory(Path dir, String prefix) throws IOException {
        for (long stamp = System.currentTimeMillis(); ; stamp++) {
            try {
                return Files.createDirectory(dir.resolve(prefix + stamp));
            } catch (FileAlreadyExistsException taken) {
                // the next millisecond's name
            }
        }
    }

    /** The held ids' file in a parts directory: their count (a big-endian int), then each id (a big-endian long). */
    private static final String IDS = "ids.bin";

    /** Ids go through a buffer of this many bytes: written one by one, a million took 50-100 ms of a save. */
    private static final int ID_BUFFER_BYTES = 1 << 20;

    static void writeIds(long[] ids, Path file) throws IOException {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocate(ID_BUFFER_BYTES); // big-endian, as DataOutputStream wrote them
            buffer.putInt(ids.length);
            for (int from = 0; from < ids.length || buffer.position() > 0; ) {
                int n = Math.min(ids.length - from, buffer.remaining() / Long.BYTES);
                buffer.asLongBuffer().put(ids, from, n);
                buffer.position(buffer.position() + n * Long.BYTES);
                from += n;
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                buffer.clear();
            }
        }
    }

    static long[] readIds(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(ID_BUFFER_BYTES);
            fill(in, buffer, Integer.BYTES);
            int count = buffer.getInt();
            if (count < 0 || (long) count * Long.BYTES + Integer.BYTES != in.size()) {
                throw new IOException(file + " says " + count + " ids but holds " + in.size() + " bytes");
            }
            long[] ids = new long[count];
            for (int from = 0; from < count; ) {
                buffer.compact();
                fill(in, buffer, (int) Math.min((long) (count - from) * Long.BYTES, buffer.capacity()) - buffer.position());
                int n = Math.min(count - from, buffer.remaining() / Long.BYTES);
                buffer.asLongBuffer().get(ids, from, n);
                buffer.position(buffer.position() + n * Long.BYTES);
                from += n;
            }
            return ids;
        }
    }

    /** Reads at least {@code bytes} more into {@code buffer}, then flips it for reading. */
    private static void fill(FileChannel in, ByteBuffer buffer, int bytes) throws IOException {
        int wanted = buffer.position() + bytes;
        while (buffer.position() < wanted) {
            if (in.read(buffer) < 0) {
                throw new EOFException("the ids end early");
            }
        }
        buffer.flip();
    }

    /** Makes {@code link} a hard link to {@code saved}; false where that cannot be done. */
    private static boolean linked(Path saved, Path link) {
        try {
            Files.createLink(link, saved);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            if (LINK_FAILURE_LOGGED.compareAndSet(false, true)) {
                LOG.warn("Cannot link {} to {} ({}): saves write every category's file instead (logged once)", link,
                        saved, e.toString());
            }
            return false;
        }
    }

    private static final AtomicBoolean LINK_FAILURE_LOGGED = new AtomicBoolean();

    /** A generation read from its files, with what they are (so that a save can link them). */
    record Read(IndexSnapshot snapshot, Written written) {}

    /**
     * Reads the saved generation when it is one of this model and index type, with the files each
     * category index was read from; empty when there is none or it does not fit (then the caller
     * rebuilds).
     */
    static Optional<Read> read(Path manifestPath, String modelId, IndexType type) {
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
            Map<CategoryIndex, Written.Saved> files = new IdentityHashMap<>();
            for (Part part : manifest.categories()) {
                Path file = parts.resolve(part.file());
                Written.Saved saved = Written.Saved.of(file, part.file(), 0); // attributes first: as read
                CategoryIndex index = CategoryIndex.read(part.category(), file, IndexSpec.parse(part.description()),
                        part.nprobe() == null ? 0 : part.nprobe());
                loaded.add(index);
                files.put(index, new Written.Saved(saved.file(), index.version(), saved.fileKey(), saved.size()));
            }
            long[] ids = readIds(parts.resolve(IDS));
            return Optional.of(new Read(IndexSnapshot.restored(modelId, type, manifest.dimension(),
                    manifest.builtAtMillis(), loaded, ids, manifest.newestSeq(), manifest.newestCreatedAtMillis()),
                    new Written(parts, files)));
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
