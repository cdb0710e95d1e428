package io.imsrc.query.http;

import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.image.ImageInfo;
import io.imsrc.common.image.InvalidImageException;
import io.imsrc.common.record.UploadRecordCodec;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import jakarta.servlet.MultipartConfigElement;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Reads the images of a multipart request and checks them, for the upload and search endpoints.
 *
 * <p>Sizes are enforced while the body is read: Jetty's multipart parser stops at {@code
 * maxBytes} per part and at the request limit, so an oversized upload is refused without being
 * held in memory. Parts up to {@value #IN_MEMORY_BYTES} bytes stay in memory, larger ones go to a
 * temporary directory of the server's and are deleted when the request ends. The format is sniffed
 * from the bytes and the image decoded before anything is published or searched, so a text file
 * named {@code cat.jpg} or a truncated JPEG is refused at once with the decoder's reason.
 */
public final class RequestImages {

    /** The multipart field that carries images. */
    public static final String FILE_FIELD = "file";

    static final int IN_MEMORY_BYTES = 1 << 20;

    /** Multipart headers and boundaries around each part. */
    private static final long PART_OVERHEAD = 16 * 1024;

    /** An image as received, before it is decoded. */
    public record Received(byte[] bytes, String fileName, String contentType) {}

    /**
     * An image as received and checked by decoding it; only what its header says is kept, so a
     * request of many large files holds their bytes, never all their pixels at once.
     */
    public record Checked(Received received, ImageInfo info) {}

    private final MultipartConfigElement multipart;
    private final long maxRequest;
    private final long maxBytes;
    private final int maxFiles;
    private final ImageDecodeOptions decodeOptions;

    /**
     * @param spoolDir where parts above {@value #IN_MEMORY_BYTES} bytes are written while a request runs
     * @param maxBytes MAX_UPLOAD_SIZE, per image
     * @param maxFiles the most images one request may carry
     */
    public RequestImages(Path spoolDir, long maxBytes, int maxFiles, ImageDecodeOptions decodeOptions) {
        this.maxBytes = maxBytes;
        this.maxFiles = maxFiles;
        this.decodeOptions = decodeOptions;
        this.maxRequest = saturatedAdd(saturatedMultiply(maxBytes + PART_OVERHEAD, maxFiles), PART_OVERHEAD);
        this.multipart = new MultipartConfigElement(spoolDir.toString(), maxBytes, maxRequest,
                (int) Math.min(IN_MEMORY_BYTES, maxBytes + 1));
    }

    /** Applies this endpoint's limits to a request before Javalin parses its parts. */
    private void applyLimits(Context ctx) {
        ctx.req().setAttribute("org.eclipse.jetty.multipartConfig", multipart);
    }

    public int maxFiles() {
        return maxFiles;
    }

    /**
     * The files of the {@value #FILE_FIELD} field, between 1 and {@code maxFiles} of them.
     *
     * @throws ApiException 415 when the request is not multipart, 413 when a file or the request is
     *     too large, 400 when the field is missing or the body malformed
     */
    public List<Received> read(Context ctx) {
        if (!ctx.isMultipartFormData()) {
            throw new ApiException(415, "not_multipart", "send the image as multipart/form-data in a field named \""
                    + FILE_FIELD + "\" (got content type " + describe(ctx.contentType()) + ")");
        }
        if (ctx.req().getContentLengthLong() > maxRequest) {
            // Refused before a byte of it is read: no thread waits for a body that could not be taken.
            throw new ApiException(413, "file_too_large", "the request declares " + ctx.req().getContentLengthLong()
                    + " bytes, more than allowed: at most " + maxBytes + " bytes (MAX_UPLOAD_SIZE) per file and "
                    + maxFiles + " file" + (maxFiles == 1 ? "" : "s"));
        }
        applyLimits(ctx);
        Map<String, List<UploadedFile>> files;
        try {
            files = ctx.uploadedFileMap();
        } catch (Exception e) { // Jetty's parser throws IOException (sneakily) or IllegalStateException
            throw refused(ctx, e);
        }
        List<UploadedFile> images = files.getOrDefault(FILE_FIELD, List.of());
        if (images.isEmpty()) {
            TreeSet<String> fields = new TreeSet<>(files.keySet());
            fields.addAll(ctx.formParamMap().keySet());
            throw ApiException.badRequest("missing_file", "expected the image in a multipart file field named \""
                    + FILE_FIELD + "\"; the request has " + (fields.isEmpty() ? "no fields" : "the fields " + fields));
        }
        if (images.size() > maxFiles) {
            throw ApiException.badRequest("too_many_files", "at most " + maxFiles + " file" + (maxFiles == 1 ? "" : "s")
                    + " per request, got " + images.size());
        }
        List<Received> received = new ArrayList<>(images.size());
        for (UploadedFile file : images) {
            checkText("file name", file.filename());
            checkText("content type", file.contentType());
            if (file.size() > maxBytes) {
                throw tooLarge(file.filename());
            }
            try (InputStream in = file.content()) {
                received.add(new Received(in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1)),
                        file.filename(), file.contentType()));
            } catch (IOException e) {
                throw ApiException.badRequest("unreadable_file", "the file " + file.filename() + " could not be read: "
                        + e.getMessage());
            }
            if (received.get(received.size() - 1).bytes().length > maxBytes) {
                throw tooLarge(file.filename());
            }
        }
        return received;
    }

    /**
     * A file's name and content type travel in the upload record and into PostgreSQL: refused here
     * when either could not (a NUL, which PostgreSQL's text refuses; more than the record's {@value
     * UploadRecordCodec#MAX_TEXT_BYTES} UTF-8 bytes), rather than failing at publication.
     */
    private static void checkText(String what, String value) {
        if (value == null) {
            return;
        }
        if (value.indexOf('\0') >= 0) {
            throw ApiException.badRequest("invalid_file_name", "the " + what + " contains a NUL character");
        }
        if (value.getBytes(StandardCharsets.UTF_8).length > UploadRecordCodec.MAX_TEXT_BYTES) {
            throw ApiException.badRequest("invalid_file_name", "the " + what + " is longer than "
                    + UploadRecordCodec.MAX_TEXT_BYTES + " bytes");
        }
    }

    /** Reads and checks every file, one decode at a time; the first bad one refuses the request. */
    public List<Checked> readImages(Context ctx) {
        List<Checked> checked = new ArrayList<>();
        for (Received r : read(ctx)) {
            checked.add(new Checked(r, decode(r).info()));
        }
        return checked;
    }

    /**
     * Decodes one image with the server's limits.
     *
     * @throws ApiException with the decoder's reason: 400 empty, 415 not an image or an unsupported
     *     format, 413 too many pixels, 422 truncated or corrupt
     * @throws io.imsrc.common.image.DecodeBusyException when the decode budget has no room in time
     *     (answered 503 with Retry-After)
     */
    public DecodedImage decode(Received r) {
        try {
            return ImageDecoder.decode(r.bytes(), decodeOptions);
        } catch (InvalidImageException e) {
            throw problem(e, r.fileName());
        }
    }

    static ApiException problem(InvalidImageException e, String fileName) {
        int status = switch (e.reason()) {
            case EMPTY -> 400;
            case NOT_AN_IMAGE, UNSUPPORTED_FORMAT -> 415;
            case TOO_MANY_PIXELS -> 413;
            case TRUNCATED, CORRUPT -> 422;
        };
        String code = switch (e.reason()) {
            case EMPTY -> "empty_file";
            case TRUNCATED -> "truncated_image";
            case CORRUPT -> "corrupt_image";
            default -> e.reason().name().toLowerCase(Locale.ROOT);
        };
        String which = fileName == null || fileName.isBlank() ? "the file" : "the file '" + fileName + "'";
        return new ApiException(status, code, which + ": " + e.getMessage()
                + (status == 415 ? " (accepted: JPEG, PNG, BMP, GIF)" : ""));
    }

    private ApiException tooLarge(String fileName) {
        return new ApiException(413, "file_too_large", "the file " + (fileName == null ? "" : "'" + fileName + "' ")
                + "is larger than MAX_UPLOAD_SIZE (" + maxBytes + " bytes)");
    }

    /**
     * What Jetty's multipart parser threw: the body's deadline (408), a limit (413) or a malformed
     * body (400).
     */
    private ApiException refused(Context ctx, Exception e) {
        if (BodyDeadline.expired(e)) {
            return BodyDeadline.timedOut(ctx);
        }
        String message = String.valueOf(rootMessage(e));
        String lower = allMessages(e).toLowerCase(Locale.ROOT);
        if (lower.contains("header")) {
            // Jetty reads part header lines up to 998 bytes (RFC 5322): a longer file name ends here.
            return ApiException.badRequest("malformed_multipart", "a part's header is longer than the server reads "
                    + "(a file name must fit a 998-byte header line): " + message);
        }
        if (lower.contains("max") && (lower.contains("size") || lower.contains("exceed"))) {
            return new ApiException(413, "file_too_large", "the request is larger than allowed: at most " + maxBytes
                    + " bytes (MAX_UPLOAD_SIZE) per file and " + maxFiles + " file" + (maxFiles == 1 ? "" : "s"));
        }
        return ApiException.badRequest("malformed_multipart", "the multipart body cannot be read: " + message);
    }

    private static String rootMessage(Throwable t) {
        String message = t.getMessage();
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null) {
                message = c.getMessage();
            }
        }
        return message;
    }

    private static String allMessages(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            all.append(c.getMessage()).append('\n');
        }
        return all.toString();
    }

    private static String describe(String contentType) {
        return contentType == null || contentType.isBlank() ? "none" : contentType;
    }

    private static long saturatedMultiply(long a, long b) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        return (high == 0 && low >= 0) ? low : Long.MAX_VALUE;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
