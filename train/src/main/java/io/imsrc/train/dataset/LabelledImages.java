package io.imsrc.train.dataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Images with their class, held in memory as the network sees them: 3 x height x width bytes each
 * (CHW, RGB, the pixel value 0-255), a fraction of the floats' size, so CIFAR-10's 50,000 training
 * images take 150 MB. Immutable once built.
 */
public final class LabelledImages {

    private final List<String> classes;
    private final int height;
    private final int width;
    private final long[] ids;
    private final int[] labels;
    private final byte[][] pixels;

    private LabelledImages(List<String> classes, int height, int width, long[] ids, int[] labels, byte[][] pixels) {
        this.classes = List.copyOf(classes);
        this.height = height;
        this.width = width;
        this.ids = ids;
        this.labels = labels;
        this.pixels = pixels;
    }

    /** The class names; a label is an index into this list. */
    public List<String> classes() {
        return classes;
    }

    public int size() {
        return ids.length;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Bytes of one image: 3 x height x width. */
    public int imageLength() {
        return 3 * height * width;
    }

    public long id(int index) {
        return ids[index];
    }

    public int label(int index) {
        return labels[index];
    }

    /** The image's CHW bytes; shared, not copied: do not modify. */
    public byte[] pixels(int index) {
        return pixels[index];
    }

    /** How many images each class has, in class order. */
    public int[] classCounts() {
        int[] counts = new int[classes.size()];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }

    /**
     * An order-independent fingerprint of the image ids and labels, so a resumed run can tell that
     * it trains on the same images as before.
     */
    public long fingerprint() {
        long sum = 0;
        for (int i = 0; i < ids.length; i++) {
            sum += mix(ids[i] * 31 + labels[i]);
        }
        return sum ^ ids.length;
    }

    /** SplitMix64's finaliser: a cheap, well-spread hash of a long. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Collects images; labels are class names until {@link #build}. Not thread-safe. */
    public static final class Builder {
        private final int height;
        private final int width;
        private final List<Long> ids = new ArrayList<>();
        private final List<String> labels = new ArrayList<>();
        private final List<byte[]> pixels = new ArrayList<>();

        public Builder(int height, int width) {
            this.height = height;
            this.width = width;
        }

        public void add(long id, String label, byte[] chw) {
            Objects.requireNonNull(label, "label");
            if (chw.length != 3 * height * width) {
                throw new IllegalArgumentException("an image has " + 3 * height * width + " bytes, got " + chw.length);
            }
            ids.add(id);
            labels.add(label);
            pixels.add(chw);
        }

        public int size() {
            return ids.size();
        }

        /** The distinct labels collected so far, sorted. */
        public List<String> labelNames() {
            return labels.stream().distinct().sorted().toList();
        }

        /**
         * The images whose label is one of {@code classes}, labelled by its index there; the others
         * are left out.
         */
        public LabelledImages build(List<String> classes) {
            int n = 0;
            for (String label : labels) {
                if (classes.contains(label)) {
                    n++;
                }
            }
            long[] idArray = new long[n];
            int[] labelArray = new int[n];
            byte[][] pixelArray = new byte[n][];
            java.util.Map<String, Integer> index = new java.util.HashMap<>();
            for (int c = 0; c < classes.size(); c++) {
                index.put(classes.get(c), c);
            }
            for (int i = 0, j = 0; i < ids.size(); i++) {
                Integer label = index.get(labels.get(i));
                if (label != null) {
                    idArray[j] = ids.get(i);
                    labelArray[j] = label;
                    pixelArray[j] = pixels.get(i);
                    j++;
                }
            }
            return new LabelledImages(classes, height, width, idArray, labelArray, pixelArray);
        }
    }
}
