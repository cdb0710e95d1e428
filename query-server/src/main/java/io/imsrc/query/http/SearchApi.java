package io.imsrc.query.http;

import static io.imsrc.query.http.SearchAnswers.ms;

import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.record.ImageId;
import io.imsrc.query.index.CategoryIndex;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.index.IndexSnapshot;
import io.imsrc.query.search.CategoryRanking;
import io.imsrc.query.search.CategoryScore;
import io.imsrc.query.search.QueryEmbedder;
import io.imsrc.query.search.SearchOutcome;
import io.imsrc.query.search.SearchRequest;
import io.imsrc.query.search.VectorSearch;
import io.imsrc.query.store.Catalog;
import io.javalin.http.Context;
import io.javalin.openapi.HttpMethod;
import io.javalin.openapi.OpenApi;
import io.javalin.openapi.OpenApiContent;
import io.javalin.openapi.OpenApiContentProperty;
import io.javalin.openapi.OpenApiParam;
import io.javalin.openapi.OpenApiRequestBody;
import io.javalin.openapi.OpenApiResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The search endpoints: by an uploaded image (POST /search), by a stored one (GET
 * /images/{id}/similar), the prototype stage alone (POST /search/prototypes), and the categories
 * with their representatives (GET /categories).
 */
public final class SearchApi {

    private static final String ERROR = "application/json";

    private final IndexManager index;
    private final QueryImages queries;
    private final Catalog catalog;
    private final SearchParameters parameters;
    private final HttpMetrics metrics;
    private final VectorSearch vectorSearch;
    private final CategoryRepresentatives representatives = new CategoryRepresentatives();

    /** @param timeout how long a query waits for the model before it is answered 503 */
    public SearchApi(IndexManager index, VectorSearch vectorSearch, QueryEmbedder embedder, ModelDescription model,
            Catalog catalog, RequestImages queryImages, SearchParameters parameters, HttpMetrics metrics,
            Duration timeout) {
        this.index = index;
        this.vectorSearch = vectorSearch;
        this.queries = new QueryImages(queryImages, model, embedder, timeout);
        this.catalog = catalog;
        this.parameters = parameters;
        this.metrics = metrics;
    }

    @OpenApi(
            path = "/search",
            methods = HttpMethod.POST,
            operationId = "search",
            tags = "search",
            summary = "Find the stored images most similar to an uploaded one",
            description = "Embeds the image, ranks the categories by the cosine of the query with their prototypes, "
                    + "keeps the top_categories best and searches their images only. use_prototypes=false searches "
                    + "every category (or those named by category). similarity is the cosine of the two embeddings, "
                    + "in [-1, 1], 1 for identical images. Pages are stable: ties break by image id.",
            queryParams = {
                @OpenApiParam(name = "limit", type = Integer.class, description = "results per page, 1-50 (default DEFAULT_SEARCH_LIMIT)"),
                @OpenApiParam(name = "offset", type = Integer.class, description = "results to skip, 0-10000 (default 0)"),
                @OpenApiParam(name = "use_prototypes", type = Boolean.class, description = "rank categories by prototype first (default USE_PROTOTYPE_FILTERING)"),
                @OpenApiParam(name = "top_categories", type = Integer.class, description = "categories the second stage searches, 1-10 (default 3)"),
                @OpenApiParam(name = "min_similarity", type = Double.class, description = "the lowest cosine a result may have, -1 to 1"),
                @OpenApiParam(name = "category", description = "only these categories: repeat it or separate names by commas")
            },
            requestBody = @OpenApiRequestBody(required = true, description = "the query image: JPEG, PNG, BMP or GIF",
                    content = @OpenApiContent(mimeType = "multipart/form-data", properties =
                            @OpenApiContentProperty(name = "file", type = "string", format = "binary"))),
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = SearchResponse.class)),
                @OpenApiResponse(status = "400", description = "a bad parameter, no file field, an empty file",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "413", description = "the file or its pixels exceed the limits",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "415", description = "not multipart, or not an image of an accepted format",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "422", description = "a truncated or corrupt image",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "503", description = "the index is still loading, or the server is overloaded",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void search(Context ctx) throws Exception {
        long start = System.nanoTime();
        SearchRequest request = parameters.parse(ctx);
        requireReady();
        // The body is read and the query embedded before a generation is leased: a slow client
        // must not keep a retired generation's memory alive.
        RequestImages.Received received = queries.read(ctx);
        DecodedImage image = queries.decode(received);
        long decoded = System.nanoTime();
        Embedding query = queries.embed(image);
        long embedded = System.nanoTime();
        try (IndexManager.Lease lease = index.lease()) {
            SearchOutcome outcome = vectorSearch.search(lease.snapshot(), query.vector(), request);
            metrics.searched(request.usePrototypes());
            ctx.json(answer(lease.snapshot(), query, outcome, request, ImageId.of(received.bytes()),
                    SearchAnswers.timings(start, decoded, embedded, outcome)));
        }
    }

    @OpenApi(
            path = "/images/{id}/similar",
            operationId = "similar",
            tags = "search",
            summary = "Find the images most similar to a stored one",
            description = "The same search as POST /search with the stored image's vector as the query; the image "
                    + "itself is left out of its results.",
            pathParams = @OpenApiParam(name = "id", type = Long.class, required = true, description = "an image id"),
            queryParams = {
                @OpenApiParam(name = "limit", type = Integer.class, description = "results per page, 1-50"),
                @OpenApiParam(name = "offset", type = Integer.class, description = "results to skip, 0-10000"),
                @OpenApiParam(name = "use_prototypes", type = Boolean.class, description = "rank categories by prototype first"),
                @OpenApiParam(name = "top_categories", type = Integer.class, description = "categories searched, 1-10"),
                @OpenApiParam(name = "min_similarity", type = Double.class, description = "the lowest cosine, -1 to 1"),
                @OpenApiParam(name = "category", description = "only these categories")
            },
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = SearchResponse.class)),
                @OpenApiResponse(status = "400", description = "a bad id or parameter",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "404", description = "no image with this id",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "422", description = "the image has no vector of the server's model yet",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "503", description = "the index is still loading",
                        content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void similar(Context ctx) throws Exception {
        long start = System.nanoTime();
        long imageId = ImageApi.imageId(ctx);
        SearchRequest request = parameters.parse(ctx).excluding(imageId);
        try (IndexManager.Lease lease = index.lease()) {
            Optional<float[]> vector = catalog.vector(imageId);
            if (vector.isEmpty()) {
                if (catalog.image(imageId).isEmpty()) {
                    throw ImageApi.unknownImage(imageId);
                }
                throw new ApiException(422, "not_embedded", "image " + imageId
                        + " has no vector of the server's model yet; GET /images/" + imageId + " shows its state");
            }
            long read = System.nanoTime();
            Embedding query = Embedding.withoutPrediction(vector.get());
            SearchOutcome outcome = vectorSearch.search(lease.snapshot(), query.vector(), request);
            metrics.searched(request.usePrototypes());
            ctx.json(answer(lease.snapshot(), query, outcome, request, imageId, SearchAnswers.timings(start, read, read, outcome)));
        }
    }

    @OpenApi(
            path = "/search/prototypes",
            methods = HttpMethod.POST,
            operationId = "searchPrototypes",
            tags = "search",
            summary = "Rank the categories by the similarity of their prototypes to an image",
            description = "Only the first search stage: every category (or those named by category) with the cosine "
                    + "of the query and the category's prototype, the mean of its images' embeddings.",
            queryParams = @OpenApiParam(name = "category", description = "only these categories"),
            requestBody = @OpenApiRequestBody(required = true, description = "the query image",
                    content = @OpenApiContent(mimeType = "multipart/form-data", properties =
                            @OpenApiContentProperty(name = "file", type = "string", format = "binary"))),
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = PrototypeSearchResponse.class)),
                @OpenApiResponse(status = "400", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "413", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "415", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "422", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR)),
                @OpenApiResponse(status = "503", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void prototypes(Context ctx) throws Exception {
        long start = System.nanoTime();
        Set<String> categories = SearchParameters.categories(ctx);
        requireReady();
        DecodedImage image = queries.decode(queries.read(ctx));
        long decoded = System.nanoTime();
        Embedding query = queries.embed(image);
        long embedded = System.nanoTime();
        try (IndexManager.Lease lease = index.lease()) {
            // One read of the prototypes for the ranking and the counts beside it: the refresh
            // thread may replace them meanwhile.
            SearchAnswers.Generation generation = SearchAnswers.Generation.of(lease.snapshot());
            List<CategoryScore> ranking = CategoryRanking.rank(query.vector(), generation.prototypes(), categories);
            long ranked = System.nanoTime();
            ctx.json(SearchAnswers.prototypes(query, ranking, generation,
                    new SearchTimings(ms(decoded - start), ms(embedded - decoded), ms(ranked - embedded), 0,
                            ms(System.nanoTime() - start))));
        }
    }

    @OpenApi(
            path = "/categories",
            operationId = "categories",
            tags = "catalog",
            summary = "Every category with its image count, prototype freshness and representative image",
            description = "The representative is the image nearest the category's prototype. A prototype is current "
                    + "when it averages every vector of the category that PostgreSQL has.",
            responses = {
                @OpenApiResponse(status = "200", content = @OpenApiContent(from = CategoriesResponse.class)),
                @OpenApiResponse(status = "503", content = @OpenApiContent(from = ErrorResponse.class, mimeType = ERROR))
            })
    public void categories(Context ctx) throws SQLException {
        List<Catalog.CategoryStats> stats = catalog.categories();
        IndexManager.Lease lease = index.isReady() ? index.lease() : null;
        try {
            IndexSnapshot snapshot = lease == null ? null : lease.snapshot();
            long now = System.currentTimeMillis();
            List<CategoryInfo> categories = new ArrayList<>(stats.size());
            for (Catalog.CategoryStats s : stats) {
                CategoryInfo.PrototypeInfo prototype = s.prototypeImageCount() == null ? null
                        : new CategoryInfo.PrototypeInfo(s.prototypeImageCount(),
                                Instant.ofEpochMilli(s.prototypeUpdatedAtMillis()).toString(),
                                Math.max(0, now - s.prototypeUpdatedAtMillis()) / 1000.0,
                                s.prototypeImageCount() == s.vectors());
                CategoryIndex images = snapshot == null ? null : snapshot.category(s.category());
                categories.add(new CategoryInfo(s.category(), s.images(), s.vectors(),
                        images == null ? 0 : images.size(), prototype, representatives.of(snapshot, s.category())));
            }
            ctx.json(new CategoriesResponse(categories));
        } finally {
            if (lease != null) {
                lease.close();
            }
        }
    }

    /** Answers 503 before the body is read when there is no index to search yet. */
    private void requireReady() {
        if (!index.isReady()) {
            index.lease().close(); // throws IndexNotReadyException with the manager's reason
        }
    }

    /**
     * The answer for {@code outcome}. The ranking is reported even when it did not choose the
     * categories: it is the query's nearest categories, and cheap (one dot product per category).
     */
    private static SearchResponse answer(IndexSnapshot snapshot, Embedding query, SearchOutcome outcome,
            SearchRequest request, long queryImageId, SearchTimings timings) {
        SearchAnswers.Generation generation = SearchAnswers.Generation.of(snapshot);
        List<CategoryScore> ranking = outcome.ranking().isEmpty()
                ? CategoryRanking.rank(query.vector(), generation.prototypes(), request.categories())
                : outcome.ranking();
        return SearchAnswers.search(request, outcome, query, ranking, generation, queryImageId, timings);
    }
}
