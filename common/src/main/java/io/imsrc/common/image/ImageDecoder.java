package io.imsrc.common.image;

import io.imsrc.common.image.InvalidImageException.Reason;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Validates and decodes JPEG, PNG, BMP and GIF (first frame) bytes into 8-bit sRGB pixels.
 *
 * <p>The checks run in the order that costs least first, and pixels are only allocated once the
 * bytes have passed the cheap ones:
 *
 * <ol>
 *   <li>empty input ({@link Reason#EMPTY});
 *   <li>the format from the magic bytes, never from a name ({@link Reason#NOT_AN_IMAGE},
 *       {@link Reason#UNSUPPORTED_FORMAT});
 *   <li>every size the file's structure declares, read without decoding: each against the pixel
 *       limit ({@link Reason#TOO_MANY_PIXELS}), and whether the data could fill it at all ({@link
 *       Reason#TRUNCATED}); see {@link DeclaredSizes}. A BMP that wraps a JPEG or PNG is decoded as
 *       the JPEG or PNG it wraps, with the same checks, never through the BMP reader (which sizes a
 *       buffer from the header before it reads);
 *   <li>the size from the header through {@link ImageReader#getWidth(int)}, which reads no pixel
 *       data ({@link Reason#TOO_MANY_PIXELS}, or {@link Reason#TRUNCATED} / {@link
 *       Reason#CORRUPT} for a broken header);
 *   <li>room in the {@link DecodeBudget} for the image's pixels, waited for as the options say
 *       ({@link DecodeBusyException} when there is none in time);
 *   <li>the full decode, during which a premature end of data is an error ({@link
 *       Reason#TRUNCATED}) even where javax.imageio itself would only warn and pad the rest of a
 *       JPEG with grey.
 * </ol>
 *
 * <p>All methods are pure functions of their arguments (apart from the budget they wait on) and
 * thread-safe: each call uses its own {@link ImageReader} on an in-memory stream, and nothing
 * touches ImageIO's global disk cache.
 */
public final class ImageDecoder {

    private ImageDecoder() {}

    /** Reads format and size from the header only, with the default limits. */
    public static ImageInfo probe(byte[] bytes) throws InvalidImageException {
        return probe(bytes, ImageDecodeOptions.defaults());
    }

    /**
     * Reads format and size from the header only, without decoding pixels, and applies the limits.
     * Does not prove that the rest of the file is intact; {@link #decode} does.
     */
    public static ImageInfo probe(byte[] bytes, ImageDecodeOptions options) throws InvalidImageException {
        ImageFormat format = sniffFormat(bytes);
        DeclaredSizes.Embedded embedded = DeclaredSizes.check(format, bytes, options.maxPixels());
        if (embedded != null) {
            ImageInfo inner;
            try {
                inner = probe(embedded.bytes(), options);
            } catch (InvalidImageException e) {
                throw inside(embedded, e);
            }
            return wrapping(embedded, inner);
        }
        ImageReader reader = readerFor(format);
        try (ImageInputStream input = open(bytes)) {
            reader.setInput(input, true, true);
            return readInfo(reader, bytes, format, options);
        } catch (IOException e) {
            throw new InvalidImageException(Reason.CORRUPT, "cannot read the " + format.id() + " stream", e);
        } finally {
            reader.dispose();
        }
    }

    /** Validates and decodes with the default limits. */
    public static DecodedImage decode(byte[] bytes) throws InvalidImageException {
        return decode(bytes, ImageDecodeOptions.defaults());
    }

    /**
     * Validates and decodes {@code bytes} to sRGB, compositing any transparency onto white.
     *
     * @throws DecodeBusyException when the options' budget had no room for the image in their wait
     */
    public static DecodedImage decode(byte[] bytes, ImageDecodeOptions options) throws InvalidImageException {
        Objects.requireNonNull(options, "options");
        ImageFormat format = sniffFormat(bytes);
        DeclaredSizes.Embedded embedded = DeclaredSizes.check(format, bytes, options.maxPixels());
        if (embedded != null) {
            DecodedImage inner;
            try {
                inner = decode(embedded.bytes(), options);
            } catch (InvalidImageException e) {
                throw inside(embedded, e);
            }
            return new DecodedImage(wrapping(embedded, inner.info()), inner.rgb());
        }
        ImageReader reader = readerFor(format);
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        try (ImageInputStream input = open(bytes)) {
            reader.setInput(input, true, true);
            ImageInfo info = readInfo(reader, bytes, format, options);
            try (DecodeBudget.Permit permit = options.budget().acquire(info.pixels(), options.budgetWait())) {
                byte[] rgb = readPixels(reader, bytes, info);
                rejectDataWarnings(info, warnings);
                return new DecodedImage(info, rgb);
            }
        } catch (IOException e) {
            throw new InvalidImageException(Reason.CORRUPT, "cannot read the " + format.id() + " stream", e);
        } finally {
            reader.dispose();
        }
    }

    /** A BMP's info for the image it wraps, which must have the size the BMP's header says. */
    private static ImageInfo wrapping(DeclaredSizes.Embedded embedded, ImageInfo inner) throws InvalidImageException {
        if (inner.width() != embedded.width() || inner.height() != embedded.height()) {
            throw new InvalidImageException(Reason.CORRUPT, "the bmp header says " + embedded.width() + "x"
                    + embedded.height() + " but the " + inner.format().id() + " it wraps is " + inner.width() + "x"
                    + inner.height());
        }
        return new ImageInfo(ImageFormat.BMP, inner.width(), inner.height());
    }

    private static InvalidImageException inside(DeclaredSizes.Embedded embedded, InvalidImageException e) {
        return new InvalidImageException(e.reason(), "the " + embedded.format().id() + " inside the bmp: "
                + e.getMessage(), e);
    }

    private static ImageFormat sniffFormat(byte[] bytes) throws InvalidImageException {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0) {
            throw new InvalidImageException(Reason.EMPTY, "the image is empty (0 bytes)");
        }
        Optional<ImageFormat> format = ImageFormat.sniff(bytes);
        if (format.isPresent()) {
            return format.get();
        }
        Optional<String> unsupported = ImageFormat.sniffUnsupported(bytes);
        if (unsupported.isPresent()) {
            throw new InvalidImageException(
                    Reason.UNSUPPORTED_FORMAT,
                    unsupported.get() + " images are not supported; use JPEG, PNG, BMP or GIF");
        }
        throw new InvalidImageException(
                Reason.NOT_AN_IMAGE, "not an image: the content starts with no JPEG, PNG, BMP or GIF signature");
    }

    private static ImageReader readerFor(ImageFormat format) throws InvalidImageException {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName());
        if (!readers.hasNext()) {
            throw new InvalidImageException(
                    Reason.UNSUPPORTED_FORMAT, "this Java runtime has no reader for " + format.id());
        }
        return readers.next();
    }

    private static ImageInputStream open(byte[] bytes) {
        // In memory on purpose: ImageIO.createImageInputStream may spill to a temp file.
        return new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes));
    }

    private static ImageInfo readInfo(
            ImageReader reader, byte[] bytes, ImageFormat format, ImageDecodeOptions options)
            throws InvalidImageException {
        int width;
        int height;
        try {
            width = reader.getWidth(0);
            height = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            throw failure(format, bytes, "header", e);
        }
        if (width < 1 || height < 1) {
            throw new InvalidImageException(
                    Reason.CORRUPT, "the " + format.id() + " header announces an empty image of " + width + "x" + height);
        }
        long pixels = (long) width * height;
        if (pixels > options.maxPixels()) {
            throw new InvalidImageException(
                    Reason.TOO_MANY_PIXELS,
                    String.format(
                            Locale.ROOT,
                            "the image is %dx%d = %d pixels, more than the limit of %d",
                            width,
                            height,
                            pixels,
                            options.maxPixels()));
        }
        return new ImageInfo(format, width, height);
    }

    private static byte[] readPixels(ImageReader reader, byte[] bytes, ImageInfo info) throws InvalidImageException {
        try {
            BufferedImage image = reader.read(0);
            checkSize(image.getWidth(), image.getHeight(), info);
            return RgbConversion.toRgb(image);
        } catch (IIOException e) {
            if (isUnsupportedColourModel(e)) {
                throw new InvalidImageException(Reason.UNSUPPORTED_FORMAT,
                        "the " + info.format().id() + " uses a colour model Java cannot decode: " + e.getMessage(), e);
            }
            throw failure(info.format(), bytes, "image data", e);
        } catch (IOException | RuntimeException e) {
            throw failure(info.format(), bytes, "image data", e);
        }
    }

    private static void checkSize(int width, int height, ImageInfo info) throws InvalidImageException {
        if (width != info.width() || height != info.height()) {
            throw new InvalidImageException(
                    Reason.CORRUPT,
                    "the decoded " + info.format().id() + " is " + width + "x" + height + " but its header said "
                            + info.width() + "x" + info.height());
        }
    }

    private static boolean isUnsupportedColourModel(IIOException e) {
        String message = e.getMessage();
        return message != null && message.contains("Unsupported Image Type");
    }

    /**
     * Readers report a premature end of data only as a warning and return a padded image; for
     * imsrc that image is not the one that was sent, so it is an error.
     */
    private static void rejectDataWarnings(ImageInfo info, List<String> warnings) throws InvalidImageException {
        for (String warning : warnings) {
            String lower = warning.toLowerCase(Locale.ROOT);
            if (lower.contains("premature end") || lower.contains("truncated") || lower.contains("eoi")) {
                throw new InvalidImageException(
                        Reason.TRUNCATED, "the " + info.format().id() + " file is truncated (" + warning + ")");
            }
            if (lower.contains("corrupt")) {
                throw new InvalidImageException(
                        Reason.CORRUPT, "the " + info.format().id() + " data is corrupt (" + warning + ")");
            }
        }
    }

    /**
     * Readers fail on a truncated file in many ways (EOF, "bogus Huffman table", "invalid block
     * length"), so a failure counts as truncation when the exception says so or when the file does
     * not end the way its format ends.
     */
    private static InvalidImageException failure(ImageFormat format, byte[] bytes, String part, Exception e) {
        if (isEndOfData(e) || !format.looksComplete(bytes)) {
            return new InvalidImageException(
                    Reason.TRUNCATED, "the " + format.id() + " file ends inside its " + part, e);
        }
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new InvalidImageException(
                Reason.CORRUPT, "the " + format.id() + " " + part + " cannot be decoded: " + detail, e);
    }

    private static boolean isEndOfData(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                return true;
            }
            String message = t.getMessage();
            if (message != null) {
                String lower = message.toLowerCase(Locale.ROOT);
                if (lower.contains("premature end") || lower.contains("unexpected end") || lower.contains("eof")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
