package io.imsrc.train.loop;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.SyncFailedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The checkpoint folder of a run: {@code state.json} and the parameter and optimiser files it
 * names. Every file is written under a temporary name and moved into place, and {@code state.json}
 * last, so a crash or a second Ctrl-C at any moment leaves the previous checkpoint or the new one,
 * never half of one. Files of older checkpoints are deleted once the new state is in place.
 */
public final class Checkpoints {

    static final String STATE = "state.json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Path folder;

    public Checkpoints(Path folder) {
        this.folder = folder;
    }

    public Path folder() {
        return folder;
    }

    /** The last checkpoint, or empty when the folder holds none. */
    public Optional<CheckpointState> read() throws IOException {
        Path state = folder.resolve(STATE);
        if (!Files.isRegularFile(state)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(state.toFile(), CheckpointState.class));
        } catch (IOException e) {
            throw new IOException("the checkpoint " + state + " cannot be read (" + e.getMessage()
                    + "); start again without --resume", e);
        }
    }

    /** Loads the checkpoint's parameters into {@code block}. */
    public void loadParameters(CheckpointState state, Block block, NDManager manager) throws IOException {
        try (DataInputStream in = new DataInputStream(
                new BufferedInputStream(Files.newInputStream(folder.resolve(state.parameters()))))) {
            block.loadParameters(manager, in);
        } catch (MalformedModelException e) {
            throw new IOException("the checkpoint's parameters do not fit the network: " + e.getMessage(), e);
        }
    }

    /** The checkpoint's optimiser state, owned by {@code manager}. */
    public NDList loadOptimizer(CheckpointState state, NDManager manager) throws IOException {
        return NDList.decode(manager, Files.readAllBytes(folder.resolve(state.optimizer())));
    }

    /**
     * Writes a checkpoint: {@code state}'s file names are replaced by this checkpoint's own.
     *
     * @return the state as written
     */
    public CheckpointState write(CheckpointState state, Block block, NDList optimizerState) throws IOException {
        Files.createDirectories(folder);
        String parameters = "parameters-" + state.step() + ".params";
        String optimizer = "optimizer-" + state.step() + ".ndlist";
        writeAtomically(folder.resolve(parameters), out -> {
            DataOutputStream data = new DataOutputStream(out);
            block.saveParameters(data);
            data.flush();
        });
        writeAtomically(folder.resolve(optimizer), out -> out.write(optimizerState.encode()));
        CheckpointState written = new CheckpointState(state.options(), state.fingerprint(), state.epoch(),
                state.batch(), state.step(), state.trainingSeconds(), parameters, optimizer, state.history(),
                state.epochLoss(), state.epochCorrect());
        writeAtomically(folder.resolve(STATE), out -> JSON.writerWithDefaultPrettyPrinter().writeValue(out, written));
        deleteAllBut(Set.of(STATE, parameters, optimizer));
        return written;
    }

    private void deleteAllBut(Set<String> keep) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (!keep.contains(name) && (name.startsWith("parameters-") || name.startsWith("optimizer-"))) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /** Something that writes a file's content. */
    interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Writes {@code target} through a temporary file in the same folder, then moves it into place. */
    static void writeAtomically(Path target, Writer writer) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileOutputStream file = new FileOutputStream(temporary.toFile());
                OutputStream out = new BufferedOutputStream(file)) {
            writer.write(out);
            out.flush();
            try {
                file.getFD().sync(); // on disk before the rename makes it the checkpoint, power loss included
            } catch (SyncFailedException e) {
                // A file system without fsync (some temporary ones): the rename is still atomic.
            }
        }
        try {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
