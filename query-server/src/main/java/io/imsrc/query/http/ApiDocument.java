package io.imsrc.query.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Completes the OpenAPI document that the handlers' annotations describe with what every route
 * shares and no single annotation knows: the answers that the guards in front of the handlers give
 * ({@link RequestHardening}: 400 for a refused path, 401 without the token, 403 for a write from
 * another site's page, 408 and 413 for a request body, 503 when the server cannot serve), which
 * operations need the token (from the route's {@link Access}), the servers and the tags. A pure
 * function of the document and the route table, so that a test can check it without a server.
 *
 * <p>The finished document passes a standard OpenAPI linter's recommended rules (Spectral's
 * {@code spectral:oas}; {@code tools/openapi-lint}).
 */
public final class ApiDocument {

    /** The security scheme's name, as the OpenAPI plugin's {@code withBearerAuth()} registers it. */
    public static final String BEARER = "BearerAuth";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final String ERROR_SCHEMA = "#/components/schemas/ErrorResponse";
    private static final Map<String, String> TAGS = Map.of(
            "images", "Uploading images and reading stored ones",
            "search", "Searching by image: categories by prototype, then images within the best ones",
            "catalog", "The categories and their prototypes",
            "operations", "Health, readiness, status, metrics and maintenance, for operators and their tools");

    private ApiDocument() {}

    /**
     * Adds the shared answers, security, servers and tags to {@code document} in place.
     *
     * @param access each route's access, keyed {@code "POST /upload"}; a documented operation
     *     missing from it is an error, so that a new route cannot go undocumented as open
     * @param token whether the server has an API token (API_TOKEN); without one no route needs it
     * @param readNeedsToken whether {@link Access#READ} routes need the token too (SEARCH_REQUIRES_TOKEN)
     * @return {@code document}
     */
    public static ObjectNode complete(ObjectNode document, Map<String, Access> access, boolean token,
            boolean readNeedsToken) {
        document.remove("security");
        document.with("info").with("contact").put("name", "the imsrc maintainers");
        document.set("servers", servers());
        ArrayNode tags = JSON.arrayNode();
        TAGS.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(t -> tags.addObject().put("name", t.getKey()).put("description", t.getValue()));
        document.set("tags", tags);
        ObjectNode components = document.with("components");
        components.with("securitySchemes").set(BEARER, JSON.objectNode()
                .put("type", "http").put("scheme", "bearer")
                .put("description", "API_TOKEN, sent as 'Authorization: Bearer <token>' (or 'X-API-Token: <token>')"));

        JsonNode paths = document.path("paths");
        for (Map.Entry<String, JsonNode> path : fields(paths)) {
            for (Map.Entry<String, JsonNode> operation : fields(path.getValue())) {
                String key = operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey();
                Access role = access.get(key);
                if (role == null) {
                    throw new IllegalArgumentException("the route table has no access for the documented " + key);
                }
                complete((ObjectNode) operation.getValue(), role, token, readNeedsToken);
            }
        }
        return document;
    }

    private static void complete(ObjectNode operation, Access role, boolean serverToken, boolean readNeedsToken) {
        boolean token = serverToken && (role == Access.WRITE || (role == Access.READ && readNeedsToken));
        ArrayNode security = JSON.arrayNode();
        if (token) {
            security.addObject().set(BEARER, JSON.arrayNode());
        }
        operation.set("security", security);

        boolean body = operation.has("requestBody");
        ObjectNode responses = operation.with("responses");
        error(responses, "400", "a malformed request: a bad parameter, path or header");
        if (token) {
            error(responses, "401", "no API token, or not the server's");
        }
        if (role == Access.WRITE) {
            error(responses, "403", "a browser sent the request for another site's page (API_ALLOWED_ORIGINS)");
        }
        if (body) {
            error(responses, "408", "the request body did not arrive within REQUEST_BODY_TIMEOUT_MS");
            error(responses, "413", "the request body exceeds the server's limit");
        }
        error(responses, "503", "the server cannot answer now (overloaded, or a service it needs is away); "
                + "try again, after Retry-After where given");
    }

    /** Adds {@code status} with the error schema unless the handler's annotation describes it. */
    private static void error(ObjectNode responses, String status, String description) {
        ObjectNode response = responses.has(status) ? (ObjectNode) responses.get(status) : responses.putObject(status);
        if (!response.hasNonNull("description") || response.get("description").asText().isBlank()) {
            response.put("description", description);
        }
        if (!response.has("content")) {
            response.putObject("content").putObject("application/json").putObject("schema").put("$ref", ERROR_SCHEMA);
        }
    }

    /**
     * The document does not know the address it is read at (a proxy may stand in front): one
     * server relative to the document, so that a client, and "Try it out" at /docs, call the
     * server that served it.
     */
    private static ArrayNode servers() {
        ArrayNode servers = JSON.arrayNode();
        servers.addObject().put("url", "/").put("description", "the imsrc query server that serves this document");
        return servers;
    }

    private static List<Map.Entry<String, JsonNode>> fields(JsonNode node) {
        List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
        node.fields().forEachRemaining(fields::add);
        return fields;
    }
}
