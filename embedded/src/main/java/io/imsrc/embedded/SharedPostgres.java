package io.imsrc.embedded;

/**
 * One embedded PostgreSQL per JVM, shared by the integration tests that need a database.
 *
 * <p>Starting PostgreSQL costs seconds, so a test JVM starts it once, on first use, and stops it
 * from a shutdown hook. Tests that share it must not assume an empty database: each works in its
 * own database ({@link #createDatabase}) or its own rows.
 */
public final class SharedPostgres {

    private static EmbeddedPostgresServer server;

    private SharedPostgres() {}

    /** The JVM's server, started on a free port with a temporary data directory on first call. */
    public static synchronized EmbeddedPostgresServer get() {
        if (server == null) {
            EmbeddedPostgresServer started = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults());
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "shared-postgres-shutdown"));
            server = started;
        }
        return server;
    }

    /**
     * A fresh, empty database on the shared server, named {@code prefix} plus a counter, for a test
     * that needs a schema of its own.
     */
    public static synchronized EmbeddedPostgresServer.Database createDatabase(String prefix) {
        return get().createDatabase(prefix + "_" + (++counter));
    }

    private static int counter;
}
