package io.imsrc.query.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApiDocumentTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode document() throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                 "security": [{"BearerAuth": []}],
                 "paths": {
                   "/upload": {"post": {"requestBody": {"content": {}},
                       "responses": {"202": {"description": "queued"},
                                     "413": {"description": "too large for MAX_UPLOAD_SIZE",
                                             "content": {"application/json": {"schema": {"type": "object"}}}}}}},
                   "/search": {"post": {"requestBody": {"content": {}}, "responses": {"200": {"description": ""}}}},
                   "/health": {"get": {"responses": {"200": {"description": ""}}}}},
                 "components": {"schemas": {"ErrorResponse": {"type": "object"}}}}
                """);
    }

    private static final Map<String, Access> ROUTES =
            Map.of("POST /upload", Access.WRITE, "POST /search", Access.READ, "GET /health", Access.OPEN);

    @Test
    void writes_need_the_token_and_list_what_the_guards_answer() throws Exception {
        JsonNode doc = ApiDocument.complete(document(), ROUTES, true, false);

        assertThat(doc.has("security")).as("no document-wide security").isFalse();
        JsonNode upload = doc.at("/paths/~1upload/post");
        assertThat(upload.at("/security/0").has(ApiDocument.BEARER)).isTrue();
        assertThat(upload.get("responses").fieldNames()).toIterable()
                .containsExactlyInAnyOrder("202", "400", "401", "403", "408", "413", "503");
        assertThat(upload.at("/responses/401/content/application~1json/schema/$ref").asText())
                .isEqualTo("#/components/schemas/ErrorResponse");
        // What the handler's annotation says of an answer stays.
        assertThat(upload.at("/responses/413/description").asText()).isEqualTo("too large for MAX_UPLOAD_SIZE");
        assertThat(upload.at("/responses/413/content/application~1json/schema/type").asText()).isEqualTo("object");

        JsonNode search = doc.at("/paths/~1search/post");
        assertThat(search.get("security")).isEmpty();
        assertThat(search.get("responses").fieldNames()).toIterable()
                .containsExactlyInAnyOrder("200", "400", "408", "413", "503");
        JsonNode health = doc.at("/paths/~1health/get");
        assertThat(health.get("security")).isEmpty();
        assertThat(health.get("responses").fieldNames()).toIterable().containsExactlyInAnyOrder("200", "400", "503");

        assertThat(doc.at("/servers/0/url").asText()).as("relative: the server that served it").isEqualTo("/");
        assertThat(doc.at("/components/securitySchemes/BearerAuth/type").asText()).isEqualTo("http");
        assertThat(doc.get("tags")).isNotEmpty();
    }

    @Test
    void with_search_requires_token_reads_need_it_too() throws Exception {
        JsonNode doc = ApiDocument.complete(document(), ROUTES, true, true);

        JsonNode search = doc.at("/paths/~1search/post");
        assertThat(search.at("/security/0").has(ApiDocument.BEARER)).isTrue();
        assertThat(search.get("responses").has("401")).isTrue();
        assertThat(search.get("responses").has("403")).as("the origin check is for writes").isFalse();
        assertThat(doc.at("/paths/~1health/get/security")).isEmpty();
    }

    @Test
    void a_documented_operation_without_a_route_is_refused() throws Exception {
        assertThatThrownBy(() -> ApiDocument.complete(document(), Map.of("POST /upload", Access.WRITE), true, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("POST /search");
    }

    @Test
    void without_an_api_token_no_route_needs_one() throws Exception {
        JsonNode doc = ApiDocument.complete(document(), ROUTES, false, true);

        JsonNode upload = doc.at("/paths/~1upload/post");
        assertThat(upload.get("security")).isEmpty();
        assertThat(upload.get("responses").has("401")).isFalse();
        assertThat(upload.get("responses").has("403")).as("the origin check stands without a token").isTrue();
        assertThat(doc.at("/paths/~1search/post/security")).isEmpty();
    }
}
