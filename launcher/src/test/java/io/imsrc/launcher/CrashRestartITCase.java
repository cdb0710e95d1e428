package io.imsrc.launcher;

import static io.imsrc.launcher.ImsrcProcesses.JDBC_URL;
import static io.imsrc.launcher.ImsrcProcesses.KAFKA;
import static io.imsrc.launcher.ImsrcProcesses.assertEverythingGone;
import static io.imsrc.launcher.ImsrcProcesses.awaitRunning;
import static io.imsrc.launcher.ImsrcProcesses.jdbcUrl;
import static io.imsrc.launcher.ImsrcProcesses.port;
import static io.imsrc.launcher.ImsrcProcesses.stop;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.ingest.prototype.CategorySums;
import io.imsrc.ingest.prototype.PrototypeSum;
import io.imsrc.ingest.source.bulk.BulkImages;
import io.imsrc.ingest.source.bulk.BulkSourceResolver;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.Waiting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hard crash in the middle of an ingest loses nothing and duplicates nothing: {@code bin/imsrc
 * --limit N} (the README's form, without the word {@code start}) is killed with SIGKILL while the
 * job stores CIFAR-10 images, so no shutdown hook runs; its embedded PostgreSQL must not outlive it.
 * A second start on the same data comes up, reads the source again, and ends with exactly the
 * images of the source (the ids the job's own reader selects with the limit), one vector each,
 * prototypes equal to the mean of their category's vectors, vectors equal to what the model gives
 * for those bytes: what a run without the crash stores. The source is recorded and the progress
 * line reaches the total. Its stop leaves no process and no port behind.
 *
 * <p>The kill comes within 50 ms of the first stored vector; the test asserts that some of the
 * 4,000 images were still missing then (a machine that stores 4,000 images in the first checkpoint
 * interval would need a larger limit).
 */
class CrashRestartITCase {

    private static final int IMAGES = 4_000;
    private static final Duration DEADLINE = Duration.ofMinutes(4);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path temp;

    private ImsrcProcesses imsrc;

    @BeforeEach
    void processes() {
        imsrc = new ImsrcProcesses(temp, "crash-restart");
    }

    @AfterEach
    void killLeftovers() throws Exception {
        imsrc.close();
    }

    @Test
    void a_start_after_kill_9_mid_ingest_ends_with_exactly_what_an_uncrashed_run_stores() throws Exception {
        // bin/imsrc runs in a process of its own (to be killed) and takes its ports from the environment.
        int apiPort = Ports.free();
        int dashboardPort = Ports.free();
        Path data = temp.resolve("data");
        Map<String, String> env = new HashMap<>(Map.of(
                "DATA_DIR", data.toString(),
                "CIFAR10_SOURCE", SharedFiles.cifar10JpgArchive() + "#cifar-10-jpg/train",
                "API_PORT", Integer.toString(apiPort),
                "FLINK_WEB_PORT", Integer.toString(dashboardPort),
                "CHECKPOINT_INTERVAL_MS", "1000"));
        ApiClient api = new ApiClient(apiPort, null);
        String limit = Integer.toString(IMAGES);

        ImsrcProcesses.Run first = imsrc.start(env, "first", "--limit", limit);
        String console = awaitRunning(first, api, DEADLINE);
        String jdbcUrl = jdbcUrl(console);
        int postgresPort = port(JDBC_URL, console, 2);
        int kafkaPort = port(KAFKA, console, 1);
        Waiting.until(() -> vectors(jdbcUrl) > 0, "the first images to be stored", DEADLINE);

        first.process().destroyForcibly(); // SIGKILL: no hook, no savepoint, no clean stop of anything
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(first.process().exitValue()).isEqualTo(137);
        assertThat(first.console()).doesNotContain("read to the end");
        // The services do not outlive the launcher: PostgreSQL is stopped by its guard, Kafka and
        // Flink lived in the launcher's JVM.
        assertEverythingGone(data, apiPort, dashboardPort, postgresPort, kafkaPort);

        long restartBegan = System.nanoTime();
        ImsrcProcesses.Run second = imsrc.start(env, "second", "--limit", limit);
        String again = awaitRunning(second, api, DEADLINE);
        double restartSeconds = (System.nanoTime() - restartBegan) / 1e9;
        assertThat(again).doesNotContain("not reading it again");
        String url = jdbcUrl(again);
        String total = String.format(Locale.ROOT, "%,d", IMAGES);
        Waiting.until(() -> second.console().contains("read to the end (" + total + " images)"),
                "the source to be recorded as read to the end", DEADLINE);
        Pattern end = Pattern.compile("ingested " + total + " of " + total + " images \\(100%\\), ([\\d,]+) of them new");
        Waiting.until(() -> end.matcher(second.console()).find(), "the progress line to reach the total",
                Duration.ofSeconds(60));
        Matcher added = end.matcher(second.console());
        assertThat(added.find()).isTrue();
        long storedBefore = IMAGES - Long.parseLong(added.group(1).replace(",", ""));
        assertThat(storedBefore).as("the crash came in the middle of the ingest").isBetween(1L, IMAGES - 1L);

        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            assertThat(count(c, "SELECT count(*) FROM images")).isEqualTo(IMAGES);
            assertThat(ids(c)).as("exactly the images an uncrashed run reads from the source")
                    .isEqualTo(selectedBySource());
            assertThat(count(c, "SELECT count(DISTINCT image_id) FROM vectors")).isEqualTo(IMAGES);
            assertThat(count(c, "SELECT count(*) FROM vectors")).isEqualTo(IMAGES);
            assertThat(count(c, "SELECT count(*) FROM images i WHERE NOT EXISTS "
                    + "(SELECT 1 FROM vectors v WHERE v.image_id = i.image_id)")).isZero();
            assertThat(count(c, "SELECT count(*) FROM dead_letters")).isZero();
            assertThat(count(c, "SELECT images_read FROM ingested_sources")).isEqualTo(IMAGES);
            // The job writes its prototype state back at the next checkpoint after the last image.
            Waiting.until(() -> count(c, "SELECT coalesce(sum(image_count), 0) FROM _category_prototypes") == IMAGES,
                    "the prototypes to count every image once", Duration.ofSeconds(60));
            assertPrototypesAreTheMeans(c);
            assertVectorsAreTheModels(c);
        }
        JsonNode status = api.get("/status").json();
        assertThat(status.at("/counts/images").asLong()).isEqualTo(IMAGES);
        Waiting.until(() -> api.get("/status").json().at("/index/vectors").asLong() == IMAGES,
                "the index to hold every vector once", Duration.ofSeconds(60));

        assertThat(second.errors().lines().filter(line -> line.contains(" ERROR ")).toList())
                .as("errors logged by the restarted imsrc").isEmpty();
        int secondPostgres = port(JDBC_URL, again, 2);
        int secondKafka = port(KAFKA, again, 1);
        stop(second);
        assertEverythingGone(data, apiPort, dashboardPort, secondPostgres, secondKafka);
        System.out.printf(Locale.ROOT, "crash-restart: %,d of %,d images stored when killed; restart to running in "
                + "%.1f s; %,d images read again and found stored; %,d stored in all, none twice%n",
                storedBefore, IMAGES, restartSeconds, storedBefore, IMAGES);
    }

    /** Each category's prototype is the mean of its vectors (to 1e-5) and counts them. */
    private static void assertPrototypesAreTheMeans(Connection c) throws Exception {
        CategorySums<Integer> stored = new CategorySums<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT i.category_id, v.embedding FROM vectors v JOIN images i USING (image_id)")) {
            while (rs.next()) {
                stored.add(rs.getInt(1), floats(rs.getArray(2)));
            }
        }
        Map<Integer, PrototypeSum> sums = stored.toMap();
        assertThat(sums).hasSize(10);
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT category_id, prototype, image_count FROM _category_prototypes")) {
            int rows = 0;
            while (rs.next()) {
                rows++;
                int category = rs.getInt(1);
                PrototypeSum sum = sums.get(category);
                assertThat(rs.getLong(3)).as("category %d", category).isEqualTo(sum.count());
                float[] prototype = floats(rs.getArray(2));
                for (int i = 0; i < prototype.length; i++) {
                    assertThat((double) prototype[i]).as("category %d, dimension %d", category, i)
                            .isCloseTo(sum.sum()[i] / sum.count(), within(1e-5));
                }
            }
            assertThat(rows).isEqualTo(10);
        }
    }

    /**
     * A sample of stored vectors equals what {@code imsrc embed} gives for the stored bytes: what a
     * run without the crash would have stored (to 1e-4: a different batch may round differently).
     */
    private void assertVectorsAreTheModels(Connection c) throws Exception {
        Path files = Files.createDirectories(temp.resolve("sample"));
        List<String> args = new ArrayList<>(List.of("embed", "--full"));
        Map<String, float[]> stored = new HashMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT i.image_id, i.image_data, v.embedding FROM images i "
                        + "JOIN vectors v USING (image_id) ORDER BY i.image_id LIMIT 20")) {
            while (rs.next()) {
                Path file = files.resolve(rs.getLong(1) + ".jpg");
                Files.write(file, rs.getBytes(2));
                args.add(file.toString());
                stored.put(file.toString(), floats(rs.getArray(3)));
            }
        }
        ImsrcProcesses.Run embed = imsrc.start(Map.of("DATA_DIR", temp.resolve("embed-data").toString()), "embed",
                args.toArray(String[]::new));
        assertThat(embed.process().waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(embed.process().exitValue()).as(embed.console()).isZero();
        List<String> lines = embed.console().lines().filter(l -> l.startsWith("{")).toList();
        assertThat(lines).hasSize(stored.size());
        for (String line : lines) {
            JsonNode json = JSON.readTree(line);
            float[] expected = stored.get(json.get("file").asText());
            JsonNode embedding = json.get("embedding");
            assertThat(embedding).hasSize(expected.length);
            for (int i = 0; i < expected.length; i++) {
                assertThat(embedding.get(i).asDouble()).isCloseTo(expected[i], within(1e-4));
            }
        }
    }

    /** The ids of the images {@code --limit IMAGES} selects from the source, read as the job reads them. */
    private Set<Long> selectedBySource() throws Exception {
        BulkSourceSpec spec = new BulkSourceSpec(SharedFiles.cifar10JpgArchive().toString(), "cifar-10-jpg/train",
                false, IMAGES);
        Set<Long> ids = new HashSet<>();
        BulkImages.forEach(BulkSourceResolver.resolve(spec, temp.resolve("cache"), 10L << 20),
                image -> ids.add(image.meta().imageId()));
        assertThat(ids).hasSize(IMAGES);
        return ids;
    }

    private static Set<Long> ids(Connection c) throws Exception {
        Set<Long> ids = new HashSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT image_id FROM images")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    private static long vectors(String jdbcUrl) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
            return count(c, "SELECT count(*) FROM vectors");
        }
    }

    private static long count(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static float[] floats(Array array) throws Exception {
        Object[] values = (Object[]) array.getArray();
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = ((Number) values[i]).floatValue();
        }
        return out;
    }
}
