package io.imsrc.launcher.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The few calls of Flink's REST API (the dashboard's) the launcher makes: which jobs run, a job's
 * vertices, its latest completed checkpoint, the sums of its operators' metrics. The same for the local Flink and a cluster.
 */
public final class FlinkRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** The metric ids a vertex has for a set of names: they do not change while the job runs. */
    private final Map<String, List<String>> metricIds = new ConcurrentHashMap<>();

    public FlinkRest(String baseUrl) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
    }

    public String baseUrl() {
        return baseUrl;
    }

    public JsonNode get(String path) throws IOException {
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

    /**
     * Sums operator metrics over every subtask of every vertex of a job: for each name, the metrics
     * whose id ends in {@code .name} (Flink prefixes an operator's metrics with its name, spaces
     * and colons replaced). A metric no vertex has yet (its task not running) counts 0.
     */
    public Map<String, Long> operatorMetricSums(String jobId, Set<String> names) throws IOException {
        Map<String, Long> sums = new HashMap<>();
        names.forEach(n -> sums.put(n, 0L));
        for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
            String metrics = "/jobs/" + jobId + "/vertices/" + vertex.path("id").asText() + "/subtasks/metrics";
            List<String> ids = metricIds.get(metrics + names);
            if (ids == null) {
                ids = new ArrayList<>();
                for (JsonNode metric : get(metrics)) {
                    String id = metric.path("id").asText();
                    if (names.contains(id.substring(id.lastIndexOf('.') + 1))) {
                        ids.add(id);
                    }
                }
                if (ids.isEmpty()) {
                    continue; // the task is not running yet, or its metrics not fetched: ask again next time
                }
                metricIds.put(metrics + names, ids);
            }
            String query = URLEncoder.encode(String.join(",", ids), StandardCharsets.UTF_8);
            for (JsonNode metric : get(metrics + "?agg=sum&get=" + query)) {
                String id = metric.path("id").asText();
                sums.merge(id.substring(id.lastIndexOf('.') + 1), Math.round(metric.path("sum").asDouble()), Long::sum);
            }
        }
        return sums;
    }

    /** The id of a job called {@code name} that is not over yet (running, created, restarting...). */
    public Optional<String> activeJob(String name) throws IOException {
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
