package io.imsrc.embedded;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One embedded PostgreSQL per JVM, shared by the integration tests that need a database.
 *
 * <p>Starting PostgreSQL costs seconds, so a test JVM starts it once, on first use, and stops it
 * from a shutdown hook. Tests that share it must not assume an empty database: each works in its
 * own database ({@link #createDatabase}) or its own rows.
 */
public final class SharedPostgres {

    private static final SharedInstance<EmbeddedPostgresServer> SERVER =
            new SharedInstance<>("shared-postgres", () -> EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()));
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private SharedPostgres() {}

    /** The JVM's server, started on a free port with a temporary data directory on first call. */
    public static EmbeddedPostgresServer get() {
        return SERVER.get();
    }

    /**
     * A fresh, empty database on the shared server, named {@code prefix} plus a counter, for a test
     * that needs a schema of its own.
     */
    public static EmbeddedPostgresServer.Database createDatabase(String prefix) {
        return get().createDatabase(prefix + "_" + COUNTER.incrementAndGet());
    }
}
