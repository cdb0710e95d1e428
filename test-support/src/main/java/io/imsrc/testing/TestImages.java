package io.imsrc.testing;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import java.util.function.Consumer;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Small images made in the test, seeded, so no binary fixtures live in the repository. */
public final class TestImages {

    private TestImages() {}

    public static BufferedImage noise(int width, int height, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        return image;
    }

    /** {@code rgb} drawn into an image with a colour palette (ImageIO's default 256 colours). */
    public static BufferedImage indexed(BufferedImage rgb) {
        BufferedImage indexed = new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_BYTE_INDEXED);
        Graphics2D g = indexed.createGraphics();
        g.drawImage(rgb, 0, 0, null);
        g.dispose();
        return indexed;
    }

    public static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IllegalStateException("no ImageIO writer for " + format + " and " + image);
        }
        return out.toByteArray();
    }

    /** {@code image} as a progressive JPEG (ImageIO's default scan script). */
    public static byte[] progressiveJpeg(BufferedImage image) throws IOException {
        return write(image, "jpeg", param -> param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT));
    }

    /** {@code image} in {@code format}, with writer parameters {@code setup} chooses. */
    public static byte[] write(BufferedImage image, String format, Consumer<ImageWriteParam> setup) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            setup.accept(param);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
                writer.setOutput(stream);
                writer.write(null, new IIOImage(image, null, null), param);
            }
            return out.toByteArray();
        } finally {
            writer.dispose();
        }
    }
}
