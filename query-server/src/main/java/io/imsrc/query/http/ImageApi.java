package io.imsrc.query.http;

import io.imsrc.common.image.ImageFormat;
import io.imsrc.common.record.CategoryNames;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.store.Catalog;
import io.imsrc.query.upload.UploadPublisher;
import io.javalin.http.Context;
import io.javalin.openapi.HttpMethod;
import io.javalin.openapi.OpenApi;
import io.javalin.openapi.OpenApiContent;
import io.javalin.openapi.OpenApiContentProperty;
import io.javalin.openapi.OpenApiParam;
import io.javalin.openapi.OpenApiRequestBody;
import io.javalin.openapi.OpenApiResponse;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adding images and following them: POST /upload, GET /images/{id} and GET /images/{id}/content.
 *
 * <p>An upload is checked completely before anything changes: every file must be an image of an
 * accepted format within the size and pixel limits, or the whole request is refused. Accepted
 * images are recorded as queued in PostgreSQL, then published to Kafka for the ingest job, which
 * embeds and stores them and marks them indexed or rejected. When Kafka does not take them, the
 * queued rows are removed again and the request answers 503: nothing is half done. Bytes already
 * stored are not published again. The rows of the uploads Kafka took are marked published; one a
 * stopped server left queued and unpublished is given up later by the {@link
 * io.imsrc.query.upload.QueuedUploadSweeper}.
 *
 * <p>Over 300 lines because a third of it is the OpenAPI annotations of its three endpoints (the
 * API's documentation is generated from them); the handlers themselves are short.
 */
public final class ImageApi {

    private static final Logger LOG = LoggerFactory.getLogger(ImageApi.class);
    private static final String ERROR = "application/json";

    private final Catalog catalog;
    private final IndexManager index;
    private final UploadPublisher publisher;
    private final RequestImages uploadImages;
    private final HttpMetrics metrics;
    private final String contentCaching;

    /**
     * @param publisher {@code null} for a server without Kafka: uploads answer 503
     * @param imagesNeedToken whether reading an image needs the API token (SEARCH_REQUIRES_TOKEN):
     *     then its bytes may be kept by the client's own cache only, never by a shared one
     */
    public ImageApi(Catalog catalog, IndexManager index, UploadPublisher publisher, RequestImages uploadImages,
            HttpMetrics metrics, boolean imagesNeedToken) {
        this.catalog = catalog;
        this.index = index;
        this.publisher = publisher;
        this.uploadImages = uploadImages;
        this.metrics = metrics;
        this.contentCaching = (imagesNeedToken ? "private" : "public") + ", max-age=31536000, immutable";
    }

    static String contentUrl(long imageId) {
        return "/images/" + imageId + "/content";
    }

    static String statusUrl(long imageId) {
        return "/images/" + imageId;
    }

    @OpenApi(
            path = "/upload",
            methods = HttpMethod.POST,
            operationId = "upload",
            tags = "images",
            summary = "Add images: they are checked, queued and embedded by the ingest job",
            description = "Send one or more images in multipart fields named file (at most 100), and optionally a "
                    + "category for all of them (else the model predicts one). Every file is checked before anything "
                    + "is queued: its format is sniffed from the bytes (JPEG, PNG, BMP, GIF), its size is limited by "
                    + "MAX_UPLOAD_SIZE and its pixels by MAX_IMAGE_PIXELS. The answer comes once Kafka has the "
                    + "uploads; follow each at its status_url. Needs the API token when API_TOKEN is set.",
            requestBody = @OpenApiRequestBody(required = true,
                    content = @OpenApiContent(mimeType = "multipart/form-data", properties = {
                        @OpenApiContentProperty(name = "file", type = "string", format = "binary", isArray = true),
                        @OpenApiContentProperty(name = "category", type = "string")
                    })),
            headers = @OpenApiParam(name = "Authorization", description = "Bearer <API_TOKEN>, when one is set"),
            responses = {
                @OpenApiResponse(status = "202", content = @OpenApiContent(from = UploadResponse.class)),
                @OpenApiResponse(status = "400", description = "no file field, an empty file, a bad category",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "401", description = "the API token is missing or wrong",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "413", description = "a file larger than MAX_UPLOAD_SIZE or with too many pixels",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "415", description = "not multipart, or a file that is not an accepted image",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "422", description = "a truncated or corrupt image",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "503", description = "Kafka or PostgreSQL cannot take the upload now",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void upload(Context ctx) throws Exception {
        if (publisher == null) {
            throw ApiException.unavailable("uploads_disabled",
                    "this server runs without Kafka (KAFKA_BOOTSTRAP_SERVERS), so it cannot take uploads");
        }
        List<RequestImages.Checked> images = uploadImages.readImages(ctx);
        String category = category(ctx);
        Instant receivedAt = Instant.now();
        List<UploadedImage> accepted = new ArrayList<>(images.size());
        List<UploadRecord> toPublish = new ArrayList<>();
        for (RequestImages.Checked image : images) {
            RequestImages.Received r = image.received();
            UploadRecord record = UploadRecord.of(r.bytes(), r.fileName(), r.contentType(), category, receivedAt);
            boolean known = catalog.image(record.imageId()).isPresent();
            boolean duplicate = toPublish.stream().anyMatch(p -> p.imageId() == record.imageId());
            if (!known && !duplicate) {
                toPublish.add(record);
            }
            accepted.add(new UploadedImage(record.imageId(), known ? "stored" : "queued", statusUrl(record.imageId()),
                    r.fileName(), image.info().format().id(), image.info().width(), image.info().height(),
                    r.bytes().length));
        }
        publish(toPublish);
        metrics.uploaded("queued", toPublish.size());
        metrics.uploaded("stored", accepted.size() - toPublish.size());
        UploadedImage first = accepted.get(0);
        boolean one = accepted.size() == 1;
        ctx.status(202).json(new UploadResponse(one ? first.imageId() : null,
                one ? first.status() : (toPublish.isEmpty() ? "stored" : "queued"), one ? first.statusUrl() : null,
                accepted));
    }

    private void publish(List<UploadRecord> records) throws SQLException, InterruptedException {
        if (records.isEmpty()) {
            return;
        }
        for (UploadRecord record : records) {
            catalog.recordQueued(record);
        }
        List<Exception> failures = publisher.publishAll(records);
        markPublished(records, failures);
        Exception failure = failures.stream().filter(f -> f != null).findFirst().orElse(null);
        if (failure == null) {
            return;
        }
        // Kafka did not take every record: take back the queued rows of those it did not take, so
        // nobody waits for an upload that will never come. The ones it took are on their way and
        // the answer says so only through their status URL; the client retries the request, and
        // the ingest job drops what it has already stored.
        for (int i = 0; i < records.size(); i++) {
            if (failures.get(i) != null) {
                catalog.forgetQueued(records.get(i));
            }
        }
        LOG.warn("Kafka did not take {} of {} uploads: {}", failures.stream().filter(f -> f != null).count(),
                records.size(), failure.toString());
        throw ApiException.unavailable("kafka_unavailable", "Kafka cannot take the upload now ("
                + failure.getClass().getSimpleName() + (failure.getMessage() == null ? "" : ": " + failure.getMessage())
                + "); nothing was queued, try again");
    }

    /**
     * Notes the uploads Kafka took. Should PostgreSQL refuse now, the job stores them all the same;
     * only one that waits longer than UPLOAD_PUBLISH_DEADLINE_MS for the job shows rejected
     * (NOT_PUBLISHED) until the job's write makes it indexed.
     */
    private void markPublished(List<UploadRecord> records, List<Exception> failures) {
        List<UploadRecord> published = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            if (failures.get(i) == null) {
                published.add(records.get(i));
            }
        }
        if (published.isEmpty()) {
            return;
        }
        try {
            catalog.markPublished(published);
        } catch (SQLException e) {
            LOG.warn("Kafka took {} uploads but PostgreSQL did not record it: {}", published.size(), e.toString());
        }
    }

    private static String category(Context ctx) {
        List<String> values = ctx.formParams("category");
        if (values.size() > 1) {
            throw ApiException.badRequest("invalid_category", "give category once for the whole upload, got "
                    + values.size());
        }
        String category = values.isEmpty() ? null : values.get(0).strip();
        if (category == null || category.isEmpty()) {
            return null;
        }
        CategoryNames.problem(category).ifPresent(problem -> {
            throw ApiException.badRequest("invalid_category", "category: " + problem);
        });
        return category;
    }

    @OpenApi(
            path = "/images/{id}",
            operationId = "image",
            tags = "images",
            summary = "An image's metadata and state: queued, indexed, stored or rejected with the reason",
            description = "queued: accepted, not yet stored; stored: in PostgreSQL; indexed: searchable; rejected: "
                    + "with the reason (a duplicate names the stored image). Upload ids and stored ids both work.",
            pathParams = @OpenApiParam(name = "id", type = Long.class, required = true, description = "an image id"),
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = ImageResponse.class)),
                @OpenApiResponse(status = "400", description = "not an image id",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "404", description = "no image or upload with this id",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void image(Context ctx) throws SQLException {
        long imageId = imageId(ctx);
        Optional<Catalog.ImageDetails> image = catalog.image(imageId);
        Optional<Catalog.UploadState> upload = catalog.upload(imageId);
        if (image.isEmpty() && upload.isEmpty()) {
            throw unknownImage(imageId);
        }
        boolean searchable = false;
        if (index.isReady()) {
            try (IndexManager.Lease lease = index.lease()) {
                searchable = lease.snapshot().holds(imageId);
            }
        }
        Catalog.UploadState u = upload.orElse(null);
        String receivedAt = u == null ? null : Instant.ofEpochMilli(u.receivedAtMillis()).toString();
        String updatedAt = u == null ? null : Instant.ofEpochMilli(u.updatedAtMillis()).toString();
        if (image.isPresent()) {
            Catalog.ImageDetails i = image.get();
            ctx.json(new ImageResponse(imageId, i.hasVector() ? "indexed" : "stored", null, null, searchable,
                    i.category(), i.categoryAssignment(), i.categoryConfidence(), i.format(), i.width(), i.height(),
                    i.source(), i.originalName(), Instant.ofEpochMilli(i.createdAtMillis()).toString(), receivedAt, updatedAt,
                    contentUrl(imageId), "/images/" + imageId + "/similar"));
            return;
        }
        String state = u.state().toLowerCase(Locale.ROOT);
        ctx.json(new ImageResponse(imageId, state, u.reason(), u.reasonDetail(), false, null, null, null, null, null,
                null, "upload", u.originalName(), null, receivedAt, updatedAt, null, null));
    }

    @OpenApi(
            path = "/images/{id}/content",
            operationId = "imageContent",
            tags = "images",
            summary = "The image's bytes as stored, with its content type",
            description = "Ids are content hashes, so the bytes of an id never change: the answer may be cached for "
                    + "good (by the client only when SEARCH_REQUIRES_TOKEN is set), and If-None-Match with the ETag "
                    + "answers 304. Errors are never cached.",
            pathParams = @OpenApiParam(name = "id", type = Long.class, required = true, description = "an image id"),
            responses = {
                @OpenApiResponse(status = "200", description = "the image",
                        content = {
                            @OpenApiContent(mimeType = "image/jpeg", type = "string", format = "binary"),
                            @OpenApiContent(mimeType = "image/png", type = "string", format = "binary")
                        }),
                @OpenApiResponse(status = "304", description = "the client's copy is current"),
                @OpenApiResponse(status = "400", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "404", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void content(Context ctx) throws SQLException {
        long imageId = imageId(ctx);
        String etag = "\"" + imageId + "\"";
        String ifNoneMatch = ctx.header("If-None-Match");
        if (ifNoneMatch != null && (ifNoneMatch.strip().equals("*") || List.of(ifNoneMatch.split(",")).stream()
                .map(String::strip).anyMatch(t -> t.equals(etag) || t.equals("W/" + etag)))) {
            if (catalog.image(imageId).isPresent()) {
                cacheable(ctx, etag);
                ctx.status(304);
                return;
            }
        }
        Catalog.ImageContent content = catalog.content(imageId).orElseThrow(() -> unknownImage(imageId));
        // Only an image that exists is cacheable for good: an id unknown now may be uploaded later.
        cacheable(ctx, etag);
        ctx.contentType(mediaType(content.format()));
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.result(content.data());
    }

    private void cacheable(Context ctx, String etag) {
        ctx.header("ETag", etag);
        ctx.header("Cache-Control", contentCaching);
    }

    private static String mediaType(String format) {
        for (ImageFormat f : ImageFormat.values()) {
            if (f.id().equals(format)) {
                return f.mediaType();
            }
        }
        return "application/octet-stream";
    }

    /** The {id} path parameter: a positive 63-bit integer. */
    static long imageId(Context ctx) {
        String raw = ctx.pathParam("id");
        try {
            long id = Long.parseLong(raw);
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        String shown = raw.length() > 40 ? raw.substring(0, 40) + "..." : raw;
        throw ApiException.badRequest("invalid_image_id", "an image id is a positive 63-bit integer, got '" + shown + "'");
    }

    static ApiException unknownImage(long imageId) {
        return ApiException.notFound("unknown_image", "no image or upload has the id " + imageId);
    }
}
