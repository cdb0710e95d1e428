package io.imsrc.ingest.source.bulk.format;

import io.imsrc.common.config.ImsrcConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The layout of the official CIFAR-10 binary archive (cifar-10-binary.tar.gz): a folder {@code
 * cifar-10-batches-bin/} with {@code data_batch_1.bin} .. {@code data_batch_5.bin} (the training
 * split), {@code test_batch.bin} (the test split), each 10,000 records of one label byte and 3,072
 * pixel bytes (1,024 red, 1,024 green, 1,024 blue, row-major), and {@code batches.meta.txt}, the
 * class names one a line in label order.
 */
public final class Cifar10Binary {

    /** The official archive, about 160 MB. */
    public static final URI OFFICIAL_URL = URI.create(ImsrcConfig.CIFAR10_OFFICIAL_URL);

    /** The MD5 the CIFAR-10 page gives for the official archive. */
    public static final String OFFICIAL_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";

    /** One record: the label byte and the pixels. */
    public static final int RECORD_BYTES = 1 + CifarPixels.BYTES;

    public static final String META_FILE = "batches.meta.txt";

    /** The folder the official archive unpacks to. */
    public static final String FOLDER = "cifar-10-batches-bin";

    /** The root that selects the training split. */
    public static final String TRAIN = "train";

    /** The root that selects the test split. */
    public static final String TEST = "test";

    private static final Pattern TRAIN_BATCH = Pattern.compile("data_batch_\\d+\\.bin");
    private static final String TEST_BATCH = "test_batch.bin";

    private Cifar10Binary() {}

    /** The MD5 an archive downloaded from {@code uri} must have, or {@code null} when none is known. */
    public static String knownMd5(URI uri) {
        return OFFICIAL_URL.equals(uri) ? OFFICIAL_MD5 : null;
    }

    /** Whether a file name (the last path component) is one of the batch files. */
    public static boolean isBatchFile(String fileName) {
        return TRAIN_BATCH.matcher(fileName).matches() || fileName.equals(TEST_BATCH);
    }

    /**
     * Whether the batch file belongs to the split a root selects: {@code train}, {@code test}, or
     * both for an empty root.
     *
     * @throws IllegalArgumentException for any other root
     */
    public static boolean inSplit(String fileName, String root) {
        return switch (root) {
            case "" -> isBatchFile(fileName);
            case TRAIN -> TRAIN_BATCH.matcher(fileName).matches();
            case TEST -> fileName.equals(TEST_BATCH);
            default -> throw new IllegalArgumentException("the root of a CIFAR-10 binary archive is '" + TRAIN
                    + "', '" + TEST + "' or none (both), got '" + root + "'");
        };
    }

    /** The class names of batches.meta.txt, in label order. */
    public static List<String> parseLabels(byte[] meta) {
        List<String> labels = new ArrayList<>();
        for (String line : new String(meta, StandardCharsets.UTF_8).split("\\R")) {
            String name = line.strip();
            if (!name.isEmpty()) {
                labels.add(name);
            }
        }
        if (labels.isEmpty() || labels.size() > 256) {
            throw new IllegalArgumentException(META_FILE + " must name 1 to 256 classes, one a line; it names "
                    + labels.size());
        }
        return labels;
    }

    /** Orders batch files the way the archive numbers them: training batches, then the test batch. */
    static String sortKey(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        return (lower.equals(TEST_BATCH) ? "1" : "0") + lower;
    }
}
