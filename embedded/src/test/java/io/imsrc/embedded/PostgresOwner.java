package io.imsrc.embedded;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * A process that starts the embedded PostgreSQL on a data directory, writes a row, prints
 * {@code ready <port>} and then waits to be killed: the launcher in miniature, for {@link
 * PostmasterGuardITCase}.
 */
public final class PostgresOwner {

    public static void main(String[] args) throws Exception {
        var server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                .withDataDirectory(Path.of(args[0])).withDatabase("owned"));
        try (Connection c = DriverManager.getConnection(server.jdbcUrl(), server.user(), "");
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS written (v int)");
            s.execute("INSERT INTO written VALUES (7)");
        }
        System.out.println("ready " + server.port());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // until killed
    }

    private PostgresOwner() {}
}
