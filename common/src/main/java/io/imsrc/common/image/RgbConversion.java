package io.imsrc.common.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;

/**
 * Turns any decoded colour model into interleaved 8-bit sRGB, compositing transparency onto white
 * (the background a person sees a transparent PNG on, and what a model trained on opaque photos
 * expects).
 */
final class RgbConversion {

    private RgbConversion() {}

    static byte[] toRgb(BufferedImage image) {
        ColorModel colorModel = image.getColorModel();
        if (colorModel instanceof ComponentColorModel && colorModel.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            return grayToRgb(image.getRaster(), colorModel);
        }
        if (colorModel.getColorSpace().getType() == ColorSpace.TYPE_CMYK && image.getRaster().getNumBands() == 4) {
            return cmykToRgb(image.getRaster());
        }
        return argbToRgb(image);
    }

    /**
     * Grey samples are replicated as they are. Going through {@link BufferedImage#getRGB} would
     * treat Java's grey colour space as linear and brighten every mid-tone (128 becomes about 186),
     * which other decoders (PIL, libjpeg) do not do.
     */
    private static byte[] grayToRgb(Raster raster, ColorModel colorModel) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int grayMax = (1 << colorModel.getComponentSize(0)) - 1;
        boolean alpha = colorModel.hasAlpha();
        int alphaMax = alpha ? (1 << colorModel.getComponentSize(1)) - 1 : 1;
        int[] gray = new int[width];
        int[] alphas = new int[width];
        byte[] rgb = new byte[3 * width * height];
        int out = 0;
        for (int y = 0; y < height; y++) {
            raster.getSamples(0, y, width, 1, 0, gray);
            if (alpha) {
                raster.getSamples(0, y, width, 1, 1, alphas);
            }
            for (int x = 0; x < width; x++) {
                int value = scaleTo8Bits(gray[x], grayMax);
                if (alpha) {
                    value = overWhite(value, scaleTo8Bits(alphas[x], alphaMax));
                }
                rgb[out++] = (byte) value;
                rgb[out++] = (byte) value;
                rgb[out++] = (byte) value;
            }
        }
        return rgb;
    }

    /** Palette, RGB, 16-bit and ICC images: the colour model converts each pixel to sRGB ARGB. */
    private static byte[] argbToRgb(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        boolean alpha = image.getColorModel().hasAlpha();
        int[] row = new int[width];
        byte[] rgb = new byte[3 * width * height];
        int out = 0;
        for (int y = 0; y < height; y++) {
            image.getRGB(0, y, width, 1, row, 0, width);
            for (int x = 0; x < width; x++) {
                int argb = row[x];
                int r = argb >>> 16 & 0xFF;
                int g = argb >>> 8 & 0xFF;
                int b = argb & 0xFF;
                if (alpha) {
                    int a = argb >>> 24;
                    r = overWhite(r, a);
                    g = overWhite(g, a);
                    b = overWhite(b, a);
                }
                rgb[out++] = (byte) r;
                rgb[out++] = (byte) g;
                rgb[out++] = (byte) b;
            }
        }
        return rgb;
    }

    /**
     * CMYK (and YCCK) JPEGs: Java's reader already undoes Adobe's inverted storage and the YCCK
     * transform, leaving ink amounts (255 = full ink) in the raster. Its own CMYK colour space would
     * then push the result through a linear-to-sRGB curve that washes colours out, so the naive
     * conversion is done here instead. No ICC profile is applied: colours are approximate, which is
     * enough for embedding.
     */
    private static byte[] cmykToRgb(Raster raster) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int[] pixel = new int[4];
        byte[] rgb = new byte[3 * width * height];
        int out = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                raster.getPixel(x, y, pixel);
                int keep = 255 - pixel[3];
                rgb[out++] = (byte) (((255 - pixel[0]) * keep + 127) / 255);
                rgb[out++] = (byte) (((255 - pixel[1]) * keep + 127) / 255);
                rgb[out++] = (byte) (((255 - pixel[2]) * keep + 127) / 255);
            }
        }
        return rgb;
    }

    private static int scaleTo8Bits(int value, int max) {
        return max == 255 ? value : (int) ((value * 255L + max / 2) / max);
    }

    private static int overWhite(int value, int alpha) {
        return (value * alpha + 255 * (255 - alpha) + 127) / 255;
    }
}
