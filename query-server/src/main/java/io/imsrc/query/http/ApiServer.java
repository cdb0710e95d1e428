package io.imsrc.query.http;

import io.imsrc.common.config.ImsrcConfig.ApiConfig;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.javalin.openapi.plugin.OpenApiPlugin;
import io.javalin.openapi.plugin.swagger.SwaggerPlugin;
import java.util.Map;

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

    /** The configured app with every route, not yet started. */
    public static Javalin create(ApiConfig api, Endpoints endpoints) {
        Javalin app = Javalin.create(ApiServer::configure);
        HttpMetrics metrics = endpoints.metrics();
        RequestHardening.install(app, new BodyDeadline(api.requestBodyTimeout()),
                new BrowserOrigins(api.allowedOrigins()), metrics::started,
                ctx -> Access.check(ctx, api.token(), api.searchRequiresToken()), metrics::finished);
        routes(app, endpoints);
        return app;
    }

    /** The route table, by the part of the API each route belongs to. */
    private static void routes(Javalin app, Endpoints endpoints) {
        app.get("/", ctx -> ctx.redirect("/app/"), Access.OPEN);
        imageRoutes(app, endpoints.images());
        searchRoutes(app, endpoints.search());
        operationRoutes(app, endpoints.ops());
    }

    private static void imageRoutes(Javalin app, ImageApi images) {
        app.post("/upload", images::upload, Access.WRITE);
        app.get("/images/{id}", images::image, Access.READ);
        app.get("/images/{id}/content", images::content, Access.READ);
    }

    private static void searchRoutes(Javalin app, SearchApi search) {
        app.get("/images/{id}/similar", search::similar, Access.READ);
        app.post("/search", search::search, Access.READ);
        app.post("/search/prototypes", search::prototypes, Access.READ);
        app.get("/categories", search::categories, Access.READ);
    }

    /** Probes and metrics stay open: an orchestrator or a scraper has no token. */
    private static void operationRoutes(Javalin app, OpsApi ops) {
        app.get("/status", ops::status, Access.READ);
        app.post("/admin/reindex", ops::reindex, Access.WRITE);
        app.get("/health", ops::health, Access.OPEN);
        app.get("/health/live", ops::live, Access.OPEN);
        app.get("/health/ready", ops::ready, Access.OPEN);
        app.get("/metrics", ops::metrics, Access.OPEN);
    }

    private static void configure(JavalinConfig config) {
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
                        .withDefinitionProcessor(document -> ApiJson.snakeCaseSchemas(document).toPrettyString()))));
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
