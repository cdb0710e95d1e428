package io.imsrc.query.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests an HTTP client refuses to send: a URI with spaces or
 * bad escapes, a broken or repeated Content-Length, an unknown method, a body that arrives slowly.
 * The request is written as given, byte for byte; the answer is parsed just enough to check it.
 */
public final class RawHttp {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(120);

    /** An answer: status, headers (names in lower case), body. */
    public record Answer(int status, Map<String, String> headers, byte[] body) {

        /**
         * Asserts that this is the API's error: {@code status}, a JSON body with a non-blank
         * {@code error} and {@code detail}, and {@code error} equal to {@code code} unless that is
         * null. {@code name} says which request it was.
         */
        public void assertJsonError(String name, int status, String code) {
            String what = name + ": " + this;
            assertThat(status()).as(what).isEqualTo(status);
            assertThat(header("Content-Type")).as(what).startsWith("application/json");
            JsonNode body = json();
            assertThat(body).as(what).isNotNull();
            assertThat(body.path("error").asText()).as(what).isNotBlank();
            assertThat(body.path("detail").asText()).as(what).isNotBlank();
            if (code != null) {
                assertThat(body.get("error").asText()).as(what).isEqualTo(code);
            }
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body as JSON, or null when it is not JSON. */
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                return null;
            }
        }

        @Override
        public String toString() {
            String text = text();
            return "HTTP " + status + " " + headers + " " + (text.length() > 500 ? text.substring(0, 500) : text);
        }
    }

    /** What to send after the first bytes, and how slowly. */
    public interface Sender {
        void send(OutputStream out) throws IOException, InterruptedException;
    }

    private final int port;

    public RawHttp(int port) {
        this.port = port;
    }

    /** Sends {@code request} (ISO-8859-1 text, CRLFs included) and reads the answer. */
    public Answer send(String request) {
        return send(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    public Answer send(byte[] request) {
        return send(out -> out.write(request));
    }

    /**
     * Opens a connection, lets {@code sender} write on a thread of its own while this one reads the
     * answer, so a server that answers before the request is complete is heard at once; the writer
     * stops when the connection closes.
     */
    public Answer send(Sender sender) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            Thread writer = new Thread(() -> {
                try {
                    sender.send(out);
                    out.flush();
                } catch (IOException e) {
                    // The server answered and closed before the whole request was written.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "raw-http-writer");
            writer.setDaemon(true);
            writer.start();
            try {
                return read(socket.getInputStream());
            } finally {
                writer.interrupt();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed before the answer's headers ended: "
                        + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
        }
        String length = headers.get("content-length");
        byte[] body = length != null ? in.readNBytes(Integer.parseInt(length)) : in.readAllBytes();
        return new Answer(status, headers, body);
    }
}
