package io.imsrc.ingest.admit;

/**
 * What the admission operator remembers of an image id (keyed state): the hash of the bytes it
 * stands for and whether the job's model has embedded it.
 *
 * @param sha256 the full hash, so that other bytes under the same id are detected
 * @param storedCategory the category an image already stored without a vector of this model is
 *     under, so its vector counts in that category's prototype; {@code null} once embedded
 * @param embedded whether the image has (or is getting) a vector of this model
 */
public record Seen(byte[] sha256, String storedCategory, boolean embedded) {}
