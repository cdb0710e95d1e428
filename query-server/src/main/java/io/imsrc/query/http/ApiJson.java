package io.imsrc.query.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The API's JSON: Java names in code, snake_case on the wire (the original design's field names,
 * {@code image_id}, {@code status_url}), for the bodies Jackson writes and for the schemas of the
 * OpenAPI document, which the annotation processor derives from the same records.
 */
public final class ApiJson {

    private static final PropertyNamingStrategies.SnakeCaseStrategy SNAKE_CASE =
            new PropertyNamingStrategies.SnakeCaseStrategy();

    private ApiJson() {}

    public static ObjectMapper mapper() {
        return new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    }

    /** A record component's name on the wire. */
    public static String wireName(String javaName) {
        return SNAKE_CASE.translate(javaName);
    }

    /**
     * Renames every schema property of an OpenAPI document (and its required lists) to its wire
     * name, so the document says what the server sends.
     */
    public static ObjectNode snakeCaseSchemas(ObjectNode document) {
        JsonNode schemas = document.path("components").path("schemas");
        if (schemas instanceof ObjectNode all) {
            all.elements().forEachRemaining(ApiJson::renameProperties);
        }
        return document;
    }

    private static void renameProperties(JsonNode schema) {
        if (!(schema instanceof ObjectNode object)) {
            return;
        }
        if (object.get("properties") instanceof ObjectNode properties) {
            ObjectNode renamed = JsonNodeFactory.instance.objectNode();
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            properties.fields().forEachRemaining(entries::add);
            for (Map.Entry<String, JsonNode> e : entries) {
                renamed.set(wireName(e.getKey()), e.getValue());
            }
            object.set("properties", renamed);
        }
        if (object.get("required") instanceof ArrayNode required) {
            ArrayNode renamed = JsonNodeFactory.instance.arrayNode();
            required.forEach(name -> renamed.add(wireName(name.asText())));
            object.set("required", renamed);
        }
    }
}
