package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.query.QueryServer;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upload path end to end, started as a user starts it ({@code imsrc ingest --serve}): the
 * query server takes an upload over HTTP and publishes it to Kafka; the ingest job (in the launcher's local Flink, a MiniCluster) reads it, embeds it and
 * writes it to PostgreSQL; the server's index picks the vector up, and the image is searchable and
 * says indexed. Everything real: embedded PostgreSQL and Kafka, the model, FAISS.
 */
class UploadEndToEndITCase {

    private static final Logger LOG = LoggerFactory.getLogger(UploadEndToEndITCase.class);
    private static final String TOKEN = "e2e-token";

    @TempDir Path temp;

    @Test
    void an_uploaded_image_is_ingested_by_the_job_and_becomes_searchable() throws Exception {
        Map<String, String> env = ServingIngest.environment(temp.resolve("data"), TOKEN);
        env.put("MODEL_NAME", "resnet20-cifar10");
        env.put("MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString());
        ServingIngest ingest = ServingIngest.start(env);
        int exit;
        try {
            QueryServer server = ingest.server();
            assertThat(server.port()).isEqualTo(Integer.parseInt(env.get("API_PORT")));
            assertThat(ingest.console()).contains("API docs         http://localhost:" + server.port() + "/docs");
            ApiClient api = new ApiClient(server.port(), TOKEN);
            api.awaitReady(Duration.ofSeconds(60));

            Map<String, byte[]> files = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(),
                    List.of("cifar-10-jpg/test/cat/0003.jpg", "cifar-10-jpg/test/ship/0001.jpg"));
            byte[] cat = files.get("cifar-10-jpg/test/cat/0003.jpg");
            byte[] ship = files.get("cifar-10-jpg/test/ship/0001.jpg");

            long start = System.nanoTime();
            ApiClient.Response labelled = api.postMultipart("/upload",
                    List.of(Part.file("file", "cat.jpg", cat), Part.field("category", "cat")));
            assertThat(labelled.status()).as(labelled.toString()).isEqualTo(202);
            long catId = labelled.json().get("image_id").asLong();
            ApiClient.Response unlabelled = api.postMultipart("/upload", List.of(Part.file("file", "ship.jpg", ship)));
            assertThat(unlabelled.status()).as(unlabelled.toString()).isEqualTo(202);
            long shipId = unlabelled.json().get("image_id").asLong();

            for (long id : List.of(catId, shipId)) {
                Waiting.until(() -> {
                    JsonNode image = api.get("/images/" + id).json();
                    return "indexed".equals(image.get("state").asText()) && image.get("searchable").asBoolean();
                }, "upload " + id + " to be indexed and searchable");
            }
            LOG.info("Upload to searchable through Kafka, Flink and PostgreSQL: {} s",
                    String.format("%.2f", (System.nanoTime() - start) / 1e9));

            JsonNode catImage = api.get("/images/" + catId).json();
            assertThat(catImage.get("category").asText()).isEqualTo("cat");
            assertThat(catImage.get("category_assignment").asText()).isEqualTo("label");
            assertThat(catImage.get("source").asText()).isEqualTo("upload");
            assertThat(catImage.get("original_name").asText()).isEqualTo("cat.jpg");
            JsonNode shipImage = api.get("/images/" + shipId).json();
            assertThat(shipImage.get("category_assignment").asText()).isEqualTo("predicted");
            assertThat(shipImage.get("category_confidence").asDouble()).isBetween(0.0, 1.0);

            JsonNode found = api.postMultipart("/search?use_prototypes=false&limit=1",
                    List.of(Part.file("file", "query.jpg", cat))).json();
            assertThat(found.get("results").get(0).get("image_id").asLong()).isEqualTo(catId);
            assertThat(found.get("results").get(0).get("similarity").asDouble()).isGreaterThan(0.9999);
            assertThat(api.get("/images/" + catId + "/content").body()).isEqualTo(cat);

            // The job's prototypes reach the server too: the cat category ranks first for its own image.
            Waiting.until(() -> api.postMultipart("/search/prototypes", List.of(Part.file("file", "q.jpg", cat)))
                    .json().get("categories").findValuesAsText("category").contains("cat"), "the cat prototype");

            // Uploading the same bytes again queues nothing: they are stored.
            JsonNode again = api.postMultipart("/upload", List.of(Part.file("file", "cat-again.jpg", cat))).json();
            assertThat(again.get("status").asText()).isEqualTo("stored");
        } finally {
            exit = ingest.stop();
        }
        assertThat(exit).isZero();
        assertThat(ingest.console()).contains("imsrc ingest: stopped, 2 new images stored");
        int apiPort = Integer.parseInt(env.get("API_PORT"));
        Waiting.until(() -> Ports.isFree(apiPort), "the API port to be free again");
        assertThat(temp.resolve("data").resolve("faiss_index.bin")).as("the index saved on stop").exists();
    }
}
