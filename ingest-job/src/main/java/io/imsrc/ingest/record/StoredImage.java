package io.imsrc.ingest.record;

import java.util.Objects;

/**
 * The image as the images table stores it: the original file's bytes (CIFAR pixels re-encoded as
 * PNG so a browser shows them), with its format and size.
 *
 * @param format the images table's format name ({@code jpeg}, {@code png}, ...)
 */
public record StoredImage(byte[] data, String format, int width, int height) {

    public StoredImage {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(format, "format");
    }
}
