package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.Settings;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The steps users run by hand, on an existing PostgreSQL (DB_HOST): {@code migrate} sets the schema
 * up, {@code populate --num-images} ingests a limited number of images and stops, {@code reindex}
 * builds the FAISS index from PostgreSQL and saves it where the server loads it.
 */
class MaintenanceCommandsITCase {

    @TempDir Path temp;

    private record Ran(int exit, String out, String err) {}

    private static Ran run(Supplier<ImsrcCommand> command, Map<String, String> env, String... args) {
        CapturedConsole console = new CapturedConsole();
        int exit = console.commandLine(command.get().withSettings(Settings.of(env))).execute(args);
        return new Ran(exit, console.out(), console.err());
    }

    @Test
    void migrate_populate_and_reindex_by_hand() throws Exception {
        EmbeddedPostgresServer.Database db = SharedPostgres.createDatabase("maintenance");
        Path folder = CifarData.writeFolder(temp.resolve("images"), CifarData.asFiles(CifarData.sample("train", 3)));
        Path index = temp.resolve("index/faiss_index.bin");
        Map<String, String> env = Map.of(
                "DATA_DIR", temp.resolve("data").toString(),
                "DB_HOST", "localhost",
                "DB_PORT", Integer.toString(SharedPostgres.get().port()),
                "DB_NAME", db.name(),
                "DB_USER", db.user(),
                "MODEL_NAME", "resnet20-cifar10", "MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString(),
                "FAISS_INDEX_PATH", index.toString(),
                "FLINK_WEB_PORT", "0",
                "CHECKPOINT_INTERVAL_MS", "500");

        Ran migrate = run(MigrateCommand::new, env);
        assertThat(migrate.exit()).isZero();
        assertThat(migrate.out()).contains("is at version " + SchemaMigrations.latestVersion()).contains(db.name());
        assertThat(count(db, "SELECT count(*) FROM categories")).isEqualTo(10);

        Ran populate = run(IngestCommand::new, env, "--source", folder + "#cifar-10-jpg/train", "--num-images", "20",
                "--no-uploads");
        assertThat(populate.exit()).as(populate.out()).isZero();
        assertThat(populate.out()).contains("done, 20 new images stored");
        assertThat(count(db, "SELECT count(*) FROM vectors")).isEqualTo(20);
        assertThat(count(db, "SELECT count(*) FROM ingested_sources")).as("read to the end").isEqualTo(1);

        Ran reindex = run(ReindexCommand::new, env);
        assertThat(reindex.exit()).as(reindex.out()).isZero();
        assertThat(reindex.out()).contains("auto index of 20 vectors in 10 categories").contains(index.toString());
        assertThat(index).exists();
        assertThat(count(db, "SELECT vector_count FROM faiss")).isEqualTo(20);
        assertThat(temp.resolve("data/postgres")).as("DB_HOST names the database: none embedded").doesNotExist();
    }

    private static long count(EmbeddedPostgresServer.Database db, String sql) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void a_database_that_cannot_be_reached_is_one_clear_line() throws Exception {
        int closed = Ports.free(); // nothing listens there
        Map<String, String> env = Map.of("DATA_DIR", temp.resolve("data").toString(), "DB_HOST", "127.0.0.1",
                "DB_PORT", Integer.toString(closed), "DB_NAME", "nowhere");
        Ran migrate = run(MigrateCommand::new, env);
        assertThat(migrate.exit()).isEqualTo(1);
        String message = migrate.err();
        assertThat(message.lines()).hasSize(1);
        assertThat(message).startsWith("imsrc migrate: cannot reach or migrate PostgreSQL at jdbc:postgresql://127.0.0.1:"
                + closed + "/nowhere").contains("check DB_HOST, DB_PORT");
    }

    @Test
    void a_malformed_env_file_is_one_clear_line() throws Exception {
        Path envFile = Files.writeString(temp.resolve("bad.env"), "DB_HOST=127.0.0.1\nthis line has no equals sign\n");
        CapturedConsole console = new CapturedConsole();
        int exit = console.commandLine(new MigrateCommand().withSettings(
                () -> Settings.fromEnvironment(Map.of(), envFile))).execute();
        assertThat(exit).isEqualTo(2);
        assertThat(console.err().lines()).hasSize(1);
        assertThat(console.err()).startsWith("imsrc migrate: ").contains("line 2");
    }
}
