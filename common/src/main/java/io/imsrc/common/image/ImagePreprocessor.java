package io.imsrc.common.image;

import java.util.Objects;

/**
 * Turns a {@link DecodedImage} into a model input: planar CHW floats in [0, 1] at the model's
 * input size.
 *
 * <p>An image that already has the input size is only scaled (pixel / 255), bit for bit what
 * PyTorch's {@code ToTensor} gives, so CIFAR-10's 32x32 images reproduce the reference embeddings.
 * Other sizes are stretched to the input size (no crop: a whole photo stays visible to the model),
 * each axis with area averaging when it shrinks (no aliasing, like OpenCV's INTER_AREA) and with
 * bilinear interpolation when it grows (pixel centres aligned, like INTER_LINEAR).
 *
 * <p>Pure functions, thread-safe.
 */
public final class ImagePreprocessor {

    private ImagePreprocessor() {}

    /**
     * The image as {@code 3 x height x width} floats in [0, 1], channel-major: red plane, then green,
     * then blue, each row-major.
     */
    public static float[] toChw(DecodedImage image, int width, int height) {
        Objects.requireNonNull(image, "image");
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        float[] planes = image.width() == width && image.height() == height
                ? toPlanes(image)
                : resize(image.rgb(), image.width(), image.height(), width, height);
        for (int i = 0; i < planes.length; i++) {
            // A division, not a multiplication by 1/255, to match ToTensor's pixel / 255 bit for bit.
            planes[i] = Math.min(1f, Math.max(0f, planes[i] / 255f));
        }
        return planes;
    }

    /** Interleaved RGB bytes to three planes of floats in 0..255. */
    private static float[] toPlanes(DecodedImage image) {
        byte[] rgb = image.rgb();
        int area = image.width() * image.height();
        float[] planes = new float[3 * area];
        for (int p = 0, i = 0; p < area; p++, i += 3) {
            planes[p] = rgb[i] & 0xFF;
            planes[area + p] = rgb[i + 1] & 0xFF;
            planes[2 * area + p] = rgb[i + 2] & 0xFF;
        }
        return planes;
    }

    /**
     * Separable resize of interleaved RGB bytes into three planes: rows first, then columns. The
     * rows are read straight from the bytes, so a large image costs only its rows at the target
     * width beside its pixels, not a float copy of itself (12 bytes a pixel).
     */
    static float[] resize(byte[] rgb, int srcWidth, int srcHeight, int dstWidth, int dstHeight) {
        AxisWeights horizontal = AxisWeights.of(srcWidth, dstWidth);
        AxisWeights vertical = AxisWeights.of(srcHeight, dstHeight);
        int dstArea = dstWidth * dstHeight;
        float[] out = new float[3 * dstArea];
        float[] rows = new float[srcHeight * dstWidth];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < srcHeight; y++) {
                int rowBase = 3 * y * srcWidth + c;
                for (int x = 0; x < dstWidth; x++) {
                    rows[y * dstWidth + x] = horizontal.applyToSamples(rgb, rowBase, x);
                }
            }
            int dstBase = c * dstArea;
            for (int y = 0; y < dstHeight; y++) {
                for (int x = 0; x < dstWidth; x++) {
                    out[dstBase + y * dstWidth + x] = vertical.apply(rows, x, dstWidth, y);
                }
            }
        }
        return out;
    }

    /** For each output position along one axis: the first source index and the weights from it. */
    private record AxisWeights(int[] first, float[][] weights) {

        static AxisWeights of(int source, int target) {
            return target < source ? area(source, target) : bilinear(source, target);
        }

        /** Each output averages the source interval it covers, partial pixels weighted by overlap. */
        private static AxisWeights area(int source, int target) {
            double scale = (double) source / target;
            int[] first = new int[target];
            float[][] weights = new float[target][];
            for (int i = 0; i < target; i++) {
                double start = i * scale;
                double end = (i + 1) * scale;
                int from = (int) Math.floor(start);
                int to = Math.min(source, (int) Math.ceil(end));
                float[] w = new float[to - from];
                for (int s = from; s < to; s++) {
                    double overlap = Math.min(end, s + 1) - Math.max(start, s);
                    w[s - from] = (float) (overlap / scale);
                }
                first[i] = from;
                weights[i] = w;
            }
            return new AxisWeights(first, weights);
        }

        private static AxisWeights bilinear(int source, int target) {
            double scale = (double) source / target;
            int[] first = new int[target];
            float[][] weights = new float[target][];
            for (int i = 0; i < target; i++) {
                double centre = Math.max(0, Math.min(source - 1, (i + 0.5) * scale - 0.5));
                int left = (int) Math.floor(centre);
                float fraction = (float) (centre - left);
                if (left + 1 < source && fraction > 0f) {
                    weights[i] = new float[] {1f - fraction, fraction};
                } else {
                    weights[i] = new float[] {1f};
                }
                first[i] = left;
            }
            return new AxisWeights(first, weights);
        }

        /** {@link #apply} over one channel of interleaved RGB bytes, the same sums in the same order. */
        float applyToSamples(byte[] rgb, int base, int i) {
            float[] w = weights[i];
            int index = base + 3 * first[i];
            float sum = 0f;
            for (float weight : w) {
                sum += weight * (rgb[index] & 0xFF);
                index += 3;
            }
            return sum;
        }

        float apply(float[] data, int base, int stride, int i) {
            float[] w = weights[i];
            int index = base + first[i] * stride;
            float sum = 0f;
            for (float weight : w) {
                sum += weight * data[index];
                index += stride;
            }
            return sum;
        }
    }
}
