package io.imsrc.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A small HTTP client for the query server's API, with multipart bodies built by hand. */
public final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One part of a multipart body; {@code fileName} null for a plain field. */
    public record Part(String name, String fileName, String contentType, byte[] data) {
        public static Part file(String name, String fileName, byte[] data) {
            return new Part(name, fileName, "application/octet-stream", data);
        }

        public static Part field(String name, String value) {
            return new Part(name, null, null, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** An answer. */
    public record Response(int status, HttpResponse<byte[]> raw) {
        public byte[] body() {
            return raw.body();
        }

        public String text() {
            return new String(raw.body(), StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            try {
                return JSON.readTree(raw.body());
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (HTTP " + status + "): " + text(), e);
            }
        }

        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return "HTTP " + status + " " + (raw.body().length > 2000 ? text().substring(0, 2000) : text());
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String token;

    public ApiClient(int port, String token) {
        this.base = "http://127.0.0.1:" + port;
        this.token = token;
    }

    public ApiClient withToken(String newToken) {
        return new ApiClient(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)), newToken);
    }

    public Response get(String path, String... headers) {
        return send(request(path, headers).GET());
    }

    public Response post(String path) {
        return send(request(path).POST(HttpRequest.BodyPublishers.noBody()));
    }

    public Response postBody(String path, String contentType, byte[] body) {
        return send(request(path, "Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    public Response postFile(String path, byte[] image) {
        return postMultipart(path, List.of(Part.file("file", "query.jpg", image)));
    }

    public Response postMultipart(String path, List<Part> parts) {
        String boundary = "imsrc-" + UUID.randomUUID();
        return send(request(path, "Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart(boundary, parts))));
    }

    public Response delete(String path) {
        return send(request(path).DELETE());
    }

    /**
     * Waits until GET /health/ready answers 200, as a load balancer would: the index is loaded and
     * every background worker of the server runs.
     */
    public void awaitReady(Duration deadline) throws Exception {
        Waiting.until(() -> get("/health/ready").status() == 200, "the server at " + base + " to be ready", deadline);
    }

    /** The vectors the live index holds, as GET /status reports them (0 while it is not ready). */
    public long indexVectors() {
        Response status = get("/status");
        if (status.status() != 200) {
            throw new AssertionError("GET /status: " + status);
        }
        return status.json().get("index").get("vectors").asLong();
    }

    /**
     * Whether the live index holds the image now: GET /images/{id}'s {@code searchable}. False for
     * an image the server does not know, and while it cannot tell (PostgreSQL away).
     */
    public boolean searchable(long imageId) {
        Response image = get("/images/" + imageId);
        return image.status() == 200 && image.json().get("searchable").asBoolean();
    }

    private HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        return builder;
    }

    private Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<byte[]> response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(response.statusCode(), response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static byte[] multipart(String boundary, List<Part> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<byte[]> chunks = new ArrayList<>();
        for (Part part : parts) {
            StringBuilder head = new StringBuilder("--").append(boundary).append("\r\n")
                    .append("Content-Disposition: form-data; name=\"").append(part.name()).append('"');
            if (part.fileName() != null) {
                head.append("; filename=\"").append(part.fileName()).append('"');
            }
            head.append("\r\n");
            if (part.contentType() != null) {
                head.append("Content-Type: ").append(part.contentType()).append("\r\n");
            }
            head.append("\r\n");
            chunks.add(head.toString().getBytes(StandardCharsets.UTF_8));
            chunks.add(part.data());
            chunks.add("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunks.add(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        chunks.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
