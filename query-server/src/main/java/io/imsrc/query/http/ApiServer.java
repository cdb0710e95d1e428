package io.imsrc.query.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imsrc.common.config.ImsrcConfig.ApiConfig;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.javalin.openapi.plugin.OpenApiPlugin;
import io.javalin.openapi.plugin.swagger.SwaggerPlugin;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The HTTP side of the query server in one place: Javalin's configuration (JSON, the OpenAPI
 * document and its UI, the web page under /app, the request guards of {@link RequestHardening})
 * and the route table with who may call each route ({@link Access}).
 *
 * <p>The caller owns the app it gets: it starts it and stops it.
 */
public final class ApiServer {

    /** The handlers the routes call, and the metrics every request is counted in. */
    public record Endpoints(SearchApi search, ImageApi images, OpsApi ops, HttpMetrics metrics) {}

    private ApiServer() {}

    /** A route: the method and path, the handler, and who may call it. */
    public record Route(HandlerType method, String path, Handler handler, Access access) {

        /** The key the API document knows the route by, such as {@code POST /upload}. */
        String operation() {
            return method.name() + " " + path;
        }
    }

    /** The configured app with every route, not yet started. */
    public static Javalin create(ApiConfig api, Endpoints endpoints) {
        List<Route> routes = routes(endpoints);
        Map<String, Access> access = routes.stream().collect(Collectors.toUnmodifiableMap(Route::operation, Route::access));
        Javalin app = Javalin.create(config -> configure(config,
                document -> ApiDocument.complete(document, access, api.token() != null, api.searchRequiresToken())));
        HttpMetrics metrics = endpoints.metrics();
        RequestHardening.install(app, new BodyDeadline(api.requestBodyTimeout()),
                new BrowserOrigins(api.allowedOrigins()), metrics::started,
                ctx -> Access.check(ctx, api.token(), api.searchRequiresToken()), metrics::finished);
        routes.forEach(r -> app.addHttpHandler(r.method(), r.path(), r.handler(), r.access()));
        return app;
    }

    /**
     * The route table: the web page, then images, search and operations. Probes and metrics stay
     * open: an orchestrator or a scraper has no token.
     */
    static List<Route> routes(Endpoints endpoints) {
        ImageApi images = endpoints.images();
        SearchApi search = endpoints.search();
        OpsApi ops = endpoints.ops();
        return List.of(
                new Route(HandlerType.GET, "/", ctx -> ctx.redirect("/app/"), Access.OPEN),
                new Route(HandlerType.POST, "/upload", images::upload, Access.WRITE),
                new Route(HandlerType.GET, "/images/{id}", images::image, Access.READ),
                new Route(HandlerType.GET, "/images/{id}/content", images::content, Access.READ),
                new Route(HandlerType.GET, "/images/{id}/similar", search::similar, Access.READ),
                new Route(HandlerType.POST, "/search", search::search, Access.READ),
                new Route(HandlerType.POST, "/search/prototypes", search::prototypes, Access.READ),
                new Route(HandlerType.GET, "/categories", search::categories, Access.READ),
                new Route(HandlerType.GET, "/status", ops::status, Access.READ),
                new Route(HandlerType.POST, "/admin/reindex", ops::reindex, Access.WRITE),
                new Route(HandlerType.GET, "/health", ops::health, Access.OPEN),
                new Route(HandlerType.GET, "/health/live", ops::live, Access.OPEN),
                new Route(HandlerType.GET, "/health/ready", ops::ready, Access.OPEN),
                new Route(HandlerType.GET, "/metrics", ops::metrics, Access.OPEN));
    }

    /** @param document completes the OpenAPI document after its field names are the wire's */
    private static void configure(JavalinConfig config, UnaryOperator<ObjectNode> document) {
        config.showJavalinBanner = false;
        RequestHardening.configure(config);
        config.jsonMapper(new JavalinJackson(ApiJson.mapper(), false));
        config.http.prefer405over404 = true;
        config.registerPlugin(new OpenApiPlugin(openApi -> openApi
                .withDocumentationPath("/openapi")
                .withDefinitionConfiguration((version, definition) -> definition
                        .withInfo(info -> {
                            info.setTitle("imsrc");
                            info.setVersion(ApiServer.class.getPackage().getImplementationVersion() == null
                                    ? "dev" : ApiServer.class.getPackage().getImplementationVersion());
                            info.setDescription("Image similarity search: upload images, search by image in two "
                                    + "stages (categories by prototype, then images within the best ones). "
                                    + "Similarities are cosines in [-1, 1]. Errors are {\"error\": code, "
                                    + "\"detail\": text}.");
                        })
                        .withSecurity(security -> security.withBearerAuth())
                        .withDefinitionProcessor(doc -> document.apply(ApiJson.snakeCaseSchemas(doc)).toPrettyString()))));
        // The web page: static files from the class path, nothing fetched from elsewhere.
        config.staticFiles.add(files -> {
            files.hostedPath = "/app";
            files.directory = "/io/imsrc/query/app";
            files.location = Location.CLASSPATH;
            files.headers = Map.of(
                    "Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; "
                            + "style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'",
                    "X-Content-Type-Options", "nosniff",
                    "Cache-Control", "no-cache");
        });
        config.registerPlugin(new SwaggerPlugin(swagger -> {
            swagger.setUiPath("/docs");
            swagger.setDocumentationPath("/openapi");
            swagger.setTitle("imsrc API");
            swagger.setValidatorUrl(null); // nothing is fetched from outside
        }));
    }
}
