package io.imsrc.embedded;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One service per JVM, started on first use and closed by a shutdown hook: what {@link
 * SharedPostgres} and {@link SharedKafka} hold for the integration tests, which would otherwise pay
 * seconds per test class to start their own.
 */
final class SharedInstance<T extends AutoCloseable> {

    private static final Logger LOG = LoggerFactory.getLogger(SharedInstance.class);

    private final String name;
    private final Supplier<T> start;
    private T instance; // guarded by this

    /** @param name names the shutdown hook's thread ({@code NAME-shutdown}) */
    SharedInstance(String name, Supplier<T> start) {
        this.name = name;
        this.start = start;
    }

    synchronized T get() {
        if (instance == null) {
            T started = start.get();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> close(started), name + "-shutdown"));
            instance = started;
        }
        return instance;
    }

    private void close(T started) {
        try {
            started.close();
        } catch (Exception e) {
            LOG.warn("The shared {} did not close cleanly: {}", name, e.toString());
        }
    }
}
