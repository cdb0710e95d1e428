package io.imsrc.ingest.admit;

import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImageDecodeOptions;
import io.imsrc.common.image.ImageDecoder;
import io.imsrc.common.image.ImageFormat;
import io.imsrc.common.image.InvalidImageException;
import io.imsrc.common.image.PngEncoder;
import io.imsrc.common.record.CategoryNames;
import io.imsrc.common.record.Rejection;
import io.imsrc.ingest.record.AdmittedImage;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.record.StoredImage;
import io.imsrc.ingest.source.bulk.format.CifarPixels;
import java.io.Serializable;
import java.util.Objects;
import java.util.Optional;

/**
 * Decodes and validates one raw image and prepares what the rest of the job needs: the bytes to
 * store and the model input. Pure: no state, no I/O, thread-safe.
 *
 * <p>CIFAR-10 records arrive as planar pixels ({@link CifarPixels}); they are stored as PNG (so a
 * browser shows them) and fed to the model from the pixels themselves, bit for bit what the
 * reference pipeline sees.
 */
public final class ImagePreparation implements Serializable {

    private static final long serialVersionUID = 1L;

    private final ModelDescription model;
    private final long maxImageBytes;
    private final long maxImagePixels;

    /**
     * @param model how to preprocess for the model
     * @param maxImageBytes larger files are refused as {@link Rejection#TOO_LARGE} (MAX_UPLOAD_SIZE)
     * @param maxImagePixels larger images are refused from their header (MAX_IMAGE_PIXELS)
     */
    public ImagePreparation(ModelDescription model, long maxImageBytes, long maxImagePixels) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxImageBytes < 1 || maxImagePixels < 1) {
            throw new IllegalArgumentException("the size limits must be positive");
        }
        this.maxImageBytes = maxImageBytes;
        this.maxImagePixels = maxImagePixels;
    }

    /**
     * Admits {@code raw} under {@code category}.
     *
     * @param category the category to store it under, or {@code null} to let the model predict one
     * @throws RejectedImageException with the reason for its dead letter
     */
    public AdmittedImage prepare(RawImage raw, String category) throws RejectedImageException {
        if (raw.rejection() != null) {
            throw new RejectedImageException(raw.rejection(), raw.rejectionDetail());
        }
        if (category != null) {
            Optional<String> problem = CategoryNames.problem(category);
            if (problem.isPresent()) {
                throw new RejectedImageException(Rejection.INVALID_CATEGORY, problem.get());
            }
        } else if (!model.hasLogits()) {
            throw new RejectedImageException(Rejection.NO_CATEGORY,
                    "the image has no category and the model " + model.name() + " has no classifier to predict one");
        }
        byte[] bytes = raw.bytes();
        if (bytes.length > maxImageBytes) {
            throw new RejectedImageException(Rejection.TOO_LARGE,
                    "the file is " + bytes.length + " bytes, more than the limit of " + maxImageBytes);
        }
        DecodedImage decoded;
        StoredImage stored;
        if (raw.encoding() == RawImage.Encoding.CIFAR_PIXELS) {
            decoded = fromCifarPixels(bytes);
            stored = new StoredImage(PngEncoder.encode(decoded), ImageFormat.PNG.id(), CifarPixels.SIDE, CifarPixels.SIDE);
        } else {
            try {
                decoded = ImageDecoder.decode(bytes, new ImageDecodeOptions(maxImagePixels));
            } catch (InvalidImageException e) {
                throw new RejectedImageException(Rejection.of(e.reason()), e.getMessage());
            }
            stored = new StoredImage(bytes, decoded.format().id(), decoded.width(), decoded.height());
        }
        return new AdmittedImage(raw.meta(), category, stored, model.preprocess(decoded));
    }

    private static DecodedImage fromCifarPixels(byte[] planes) throws RejectedImageException {
        try {
            return CifarPixels.toImage(planes);
        } catch (IllegalArgumentException e) {
            throw new RejectedImageException(Rejection.CORRUPT, e.getMessage());
        }
    }
}
