package io.imsrc.query.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder on 127.0.0.1 in front of a real server, which the test can make stop forwarding
 * ({@link #stall}) without closing anything: to the client the server then looks hung, or the
 * connection half-open, as when a database host freezes or a network drops packets silently. A
 * hand-written stand-in for a network fault, since the server itself cannot be made to behave so.
 *
 * <p>While stalled it reads what arrives and holds it; {@link #resume} passes it on. New
 * connections are accepted and connected to the server, and stall the same way. Thread-safe;
 * {@link #close} closes every socket and ends its threads.
 */
public final class StallingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean stalled; // guarded by gate
    private volatile boolean closed;

    public StallingProxy(String targetHost, int targetPort) throws IOException {
        this.target = new InetSocketAddress(targetHost, targetPort);
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "stalling-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Stops passing bytes on, in both directions, on every connection, present and future. */
    public void stall() {
        synchronized (gate) {
            stalled = true;
        }
    }

    /** Passes bytes on again, those held first. */
    public void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(client);
            Socket server = new Socket();
            sockets.add(server);
            try {
                server.connect(target, 10_000);
            } catch (IOException e) {
                // The server is down: the client sees its connection closed, as it would be refused.
                closeQuietly(client);
                closeQuietly(server);
                continue;
            }
            pump(client, server, "up");
            pump(server, client, "down");
        }
    }

    private void pump(Socket from, Socket to, String direction) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    synchronized (gate) {
                        while (stalled && !closed) {
                            gate.wait();
                        }
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side went away: close both
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "stalling-proxy-" + direction);
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        resume();
        listener.close();
        sockets.forEach(StallingProxy::closeQuietly);
    }
}
