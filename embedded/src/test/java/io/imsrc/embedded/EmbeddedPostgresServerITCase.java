package io.imsrc.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresServerITCase {

    @TempDir Path temp;

    @Test
    void data_written_before_a_restart_is_there_after_it() throws Exception {
        Path data = temp.resolve("pg");
        var options = EmbeddedPostgresServer.Options.defaults().withDataDirectory(data).withDatabase("keepme");
        try (var server = EmbeddedPostgresServer.start(options);
                Connection c = DriverManager.getConnection(server.jdbcUrl(), server.user(), "");
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (v int)");
            s.execute("INSERT INTO t VALUES (42)");
        }
        try (var server = EmbeddedPostgresServer.start(options)) {
            assertStoredValue(server.dataSource(), 42);
        }
    }

    @Test
    void a_stopped_server_refuses_connections_and_comes_back_on_its_port_with_its_data() throws Exception {
        // A temporary cluster: stop must keep even that one's files.
        try (var server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults())) {
            int port = server.port();
            DataSource before = server.dataSource();
            try (Connection c = before.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (v int)");
                s.execute("INSERT INTO t VALUES (7)");
            }

            server.stop();
            server.stop(); // idempotent

            assertThat(server.running()).isFalse();
            assertThatThrownBy(() -> before.getConnection().close()).isInstanceOf(SQLException.class);

            server.restart();

            assertThat(server.running()).isTrue();
            assertThat(server.port()).isEqualTo(port);
            assertStoredValue(before, 7);
        }
    }

    /** Table t holds {@code expected}, read through {@code dataSource}. */
    private static void assertStoredValue(DataSource dataSource, int expected) throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT v FROM t")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(expected);
        }
    }

    @Test
    void a_temporary_cluster_is_deleted_on_close_and_close_is_idempotent() throws Exception {
        var server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults());
        int port = server.port();
        assertThat(port).isPositive();
        try (Connection c = server.dataSource().getConnection()) {
            assertThat(c.isValid(5)).isTrue();
        }
        server.close();
        server.close();
        // The port is free again once the server is gone.
        try (ServerSocket socket = new ServerSocket(port)) {
            assertThat(socket.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void the_shared_server_creates_separate_databases() throws Exception {
        var a = SharedPostgres.createDatabase("it");
        var b = SharedPostgres.createDatabase("it");
        assertThat(a.name()).isNotEqualTo(b.name());
        try (Connection c = a.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE only_in_a (v int)");
        }
        try (Connection c = b.dataSource().getConnection(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM only_in_a")).hasMessageContaining("only_in_a");
        }
    }

    @Test
    void a_database_name_that_is_not_an_identifier_is_refused() {
        assertThatThrownBy(() -> EmbeddedPostgresServer.Options.defaults().withDatabase("x; DROP"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plain SQL identifier");
    }
}
