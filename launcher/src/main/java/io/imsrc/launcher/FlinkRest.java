package io.imsrc.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * The few calls of Flink's REST API (the dashboard's) the launcher makes: which jobs run, a job's
 * vertices, its latest completed checkpoint. The same for the local Flink and a cluster.
 */
final class FlinkRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    FlinkRest(String baseUrl) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
    }

    String baseUrl() {
        return baseUrl;
    }

    JsonNode get(String path) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking Flink at " + baseUrl, e);
        } catch (IOException e) {
            throw new IOException("cannot reach Flink's REST API at " + baseUrl + ": " + e, e);
        }
        if (response.statusCode() != 200) {
            throw new IOException("Flink at " + baseUrl + " answered " + response.statusCode() + " to GET " + path);
        }
        return JSON.readTree(response.body());
    }

    /** The id of a job called {@code name} that is not over yet (running, created, restarting...). */
    Optional<String> activeJob(String name) throws IOException {
        for (JsonNode job : get("/jobs/overview").path("jobs")) {
            String state = job.path("state").asText();
            boolean over = state.equals("FINISHED") || state.equals("CANCELED") || state.equals("FAILED");
            if (!over && job.path("name").asText().equals(name)) {
                return Optional.of(job.path("jid").asText());
            }
        }
        return Optional.empty();
    }
}
