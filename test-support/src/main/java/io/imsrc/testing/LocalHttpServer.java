package io.imsrc.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A web server on 127.0.0.1 and a free port, serving fixed bytes at one path and counting the
 * requests: the stand-in for a model or data-set download site, since tests must not reach the
 * internet. Other paths answer 404. Close stops it.
 */
public final class LocalHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final String path;
    private final AtomicInteger requests = new AtomicInteger();

    private LocalHttpServer(String path, byte[] content, int status) throws IOException {
        this.path = path;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            requests.incrementAndGet();
            if (status != 200) {
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(200, content.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(content);
            }
        });
        server.start();
    }

    /** Serves {@code content} at {@code path} (starting with '/'). */
    public static LocalHttpServer serving(String path, byte[] content) throws IOException {
        return new LocalHttpServer(path, content, 200);
    }

    /** Answers every request for {@code path} with {@code status} and no body. */
    public static LocalHttpServer failing(String path, int status) throws IOException {
        return new LocalHttpServer(path, new byte[0], status);
    }

    /** The URL of the served path. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Requests for the served path so far. */
    public int requests() {
        return requests.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
