package io.imsrc.common.embed;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Which model produced a vector: the model description's name, a dash and the first 12 hex digits
 * of the SHA-256 of the model file (for example {@code resnet20-cifar10-1a2b3c4d5e6f}). Vectors,
 * prototypes and the FAISS metadata carry it, so retraining or swapping the file under the same
 * name gives a new id instead of mixing two vector spaces.
 */
public record ModelId(String value) {

    private static final int HASH_DIGITS = 12;

    public ModelId {
        Objects.requireNonNull(value, "value");
        if (value.isBlank()) {
            throw new IllegalArgumentException("model id must not be blank");
        }
    }

    public static ModelId of(String descriptionName, byte[] sha256) {
        return new ModelId(descriptionName + "-" + HexFormat.of().formatHex(sha256).substring(0, HASH_DIGITS));
    }

    public static ModelId forFile(String descriptionName, Path modelFile) throws IOException {
        return of(descriptionName, sha256(modelFile));
    }

    static byte[] sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return digest.digest();
    }

    @Override
    public String toString() {
        return value;
    }
}
