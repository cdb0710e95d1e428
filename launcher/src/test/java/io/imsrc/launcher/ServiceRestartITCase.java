package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.ModelId;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.embedded.EmbeddedKafkaBroker;
import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.query.QueryServer;
import io.imsrc.testing.ApiClient.Part;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The services imsrc depends on restarted under it, as an administrator restarts them: {@code imsrc
 * ingest --serve} runs on a PostgreSQL or a Kafka broker of the test's own (external to imsrc, as
 * DB_HOST and KAFKA_BOOTSTRAP_SERVERS name them), which the test stops and starts again on the same
 * port and data. Everything real: the job in the launcher's local Flink, the query server, the
 * model, FAISS.
 */
class ServiceRestartITCase {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceRestartITCase.class);
    private static final String TOKEN = "restart-token";
    private static final Duration LONG = Duration.ofMinutes(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path temp;

    private Map<String, String> environment() throws Exception {
        Map<String, String> env = ServingIngest.environment(temp.resolve("data"), TOKEN);
        env.put("MODEL_NAME", "resnet20-cifar10");
        env.put("MODEL_PATH", SharedFiles.model("resnet20-cifar10.pt").toString());
        return env;
    }

    private static Map<String, byte[]> trainImages(String... names) throws Exception {
        List<String> paths = new ArrayList<>();
        for (String name : names) {
            paths.add("cifar-10-jpg/train/" + name);
        }
        Map<String, byte[]> files = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(), paths);
        Map<String, byte[]> byName = new LinkedHashMap<>();
        for (String name : names) {
            byName.put(name, files.get("cifar-10-jpg/train/" + name));
        }
        return byName;
    }

    @Test
    void postgresql_restarted_mid_ingest_loses_nothing_stores_everything_once_and_the_index_catches_up() throws Exception {
        int planned = 1200;
        try (EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.defaults()
                .withDataDirectory(temp.resolve("external-postgres")))) {
            TestDatabase database = TestDatabase.on(postgres.defaultDatabase(), SchemaMigrations::migrate);
            String modelId = ModelId.forFile("resnet20-cifar10", SharedFiles.model("resnet20-cifar10.pt")).value();
            Map<String, String> env = environment();
            env.put("DB_HOST", postgres.host());
            env.put("DB_PORT", Integer.toString(postgres.port()));
            env.put("DB_NAME", postgres.database());
            env.put("DB_USER", postgres.user());
            ServingIngest ingest = ServingIngest.start(env, "--source",
                    SharedFiles.cifar10JpgArchive() + "#cifar-10-jpg/test", "--limit", Integer.toString(planned), "--serve");
            try {
                QueryServer server = ingest.server();
                ApiClient api = new ApiClient(server.port(), TOKEN);
                byte[] query = trainImages("cat/0001.jpg").get("cat/0001.jpg");

                // Stop PostgreSQL as soon as the index holds a first batch: the job is in full flow.
                Waiting.until(() -> api.indexVectors() > 0, "the first vectors in the index", LONG);
                long storedAtStop = database.count("SELECT count(*) FROM vectors");
                postgres.stop();
                long stoppedAt = System.nanoTime();
                assertThat(storedAtStop).as("PostgreSQL went away in the middle of the ingest").isLessThan(planned);
                try {
                    Waiting.until(() -> !readyCheck(api, "index_refresh").equals("ok"), "the index refresh to fail", LONG);
                    ApiClient.Response ready = api.get("/health/ready");
                    assertThat(ready.status()).isEqualTo(503);
                    assertThat(ready.json().get("detail").asText()).contains("index refresh failing");

                    // The index in memory answers searches meanwhile.
                    ApiClient.Response search = api.postFile("/search?use_prototypes=false&limit=3", query);
                    assertThat(search.status()).as(search.toString()).isEqualTo(200);
                    assertThat(search.json().get("results")).isNotEmpty();

                    // PostgreSQL stays away while the job fails over three times: its restarts find no
                    // database either, and it goes on trying.
                    Waiting.until(() -> restarts(ingest) >= 3, "the job to fail over three times", LONG);
                    LOG.info("PostgreSQL away: the job failed over three times in the {} s since the stop; {} of {} "
                            + "images stored before", String.format("%.1f", seconds(stoppedAt)), storedAtStop, planned);
                } finally {
                    postgres.restart();
                }
                long restartedAt = System.nanoTime();
                Timestamp back = (Timestamp) database.rows("SELECT now() AS back").get(0).get("back");
                long storedBefore = database.count("SELECT count(*) FROM vectors");

                Waiting.until(() -> database.count("SELECT count(*) FROM vectors WHERE created_at >= ?", back) > 0,
                        "the job to store again", LONG);
                double resumedAfter = seconds(restartedAt);
                Waiting.until(() -> database.count("SELECT count(*) FROM vectors") == planned, "every image stored", LONG);
                double storedAfter = seconds(restartedAt);
                Waiting.until(() -> api.indexVectors() == planned, "the index to catch up", LONG);
                double caughtUpAfter = seconds(restartedAt);
                Waiting.until(() -> api.get("/health/ready").status() == 200, "ready again", LONG);
                LOG.info("PostgreSQL back with {} images stored: the job stored again after {} s, all {} images after {} "
                        + "s, the index held them all after {} s, ready after {} s; {} job restarts", storedBefore,
                        String.format("%.1f", resumedAfter), planned,
                        String.format("%.1f", storedAfter), String.format("%.1f", caughtUpAfter),
                        String.format("%.1f", seconds(restartedAt)), restarts(ingest));

                // Exactly once: one row per image, prototypes the exact means of the stored vectors (the
                // prototype sink writes on its own interval, so they may trail the vectors a moment).
                long prototypesFrom = System.nanoTime();
                try {
                    Waiting.until(() -> database.prototypesAreExactMeans(modelId), "exact prototypes", LONG);
                } finally {
                    database.assertPrototypesAreExactMeans(modelId);
                }
                LOG.info("Prototypes exact {} s after the index caught up", String.format("%.1f", seconds(prototypesFrom)));
                assertThat(database.count("SELECT count(*) FROM images")).isEqualTo(planned);
                assertThat(database.count("SELECT count(DISTINCT content_hash) FROM images")).isEqualTo(planned);
                assertThat(database.count("SELECT count(*) FROM vectors")).isEqualTo(planned);
                assertThat(database.count("SELECT count(*) FROM dead_letters")).isZero();
                assertThat(database.count("SELECT sum(image_count) FROM _category_prototypes")).isEqualTo(planned);

                // New images go all the way through again: upload, Kafka, the job, PostgreSQL, the index.
                byte[] fresh = trainImages("horse/0002.jpg").get("horse/0002.jpg");
                ApiClient.Response upload = api.postMultipart("/upload",
                        List.of(Part.file("file", "horse.jpg", fresh), Part.field("category", "horse")));
                assertThat(upload.status()).as(upload.toString()).isEqualTo(202);
                long id = upload.json().get("image_id").asLong();
                Waiting.until(() -> api.get("/images/" + id).json().get("searchable").asBoolean(),
                        "the new upload to be searchable", LONG);
                JsonNode found = api.postFile("/search?use_prototypes=false&limit=1", fresh).json();
                assertThat(found.get("results").get(0).get("image_id").asLong()).isEqualTo(id);
            } finally {
                ingest.stop();
            }
        }
    }

    @Test
    void kafka_restarted_refuses_uploads_with_503_while_down_and_loses_none_it_took() throws Exception {
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults()
                .withDataDirectory(temp.resolve("external-kafka")))) {
            Map<String, String> env = environment();
            env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            ServingIngest ingest = ServingIngest.start(env);
            try {
                QueryServer server = ingest.server();
                ApiClient api = new ApiClient(server.port(), TOKEN);
                api.awaitReady(LONG);
                Map<String, byte[]> images = trainImages("airplane/0003.jpg", "bird/0003.jpg", "deer/0003.jpg",
                        "frog/0003.jpg", "ship/0003.jpg", "truck/0003.jpg");
                List<byte[]> files = List.copyOf(images.values());

                // Taken, then Kafka stops at once: whatever the job had not read yet waits in Kafka's log.
                Set<Long> taken = new HashSet<>();
                for (byte[] file : files.subList(0, 5)) {
                    ApiClient.Response r = api.postMultipart("/upload", List.of(Part.file("file", "up.jpg", file)));
                    assertThat(r.status()).as(r.toString()).isEqualTo(202);
                    taken.add(r.json().get("image_id").asLong());
                }
                kafka.stop();
                long stoppedAt = System.nanoTime();
                int refused = 0;
                byte[] late = files.get(5);
                try {
                    ApiClient.Response down = api.postMultipart("/upload", List.of(Part.file("file", "late.jpg", late)));
                    LOG.info("Kafka away: an upload was answered {} after {} s", down.status(),
                            String.format("%.1f", seconds(stoppedAt)));
                    assertThat(down.status()).as(down.toString()).isEqualTo(503);
                    assertThat(down.header("Content-Type")).startsWith("application/json");
                    assertThat(down.json().get("error").asText()).isEqualTo("kafka_unavailable");
                    refused++;
                    long lateId = ImageId.of(late);
                    assertThat(api.get("/images/" + lateId).status()).as("nothing queued for a refused upload")
                            .isEqualTo(404);
                    // /status reports the broker as its background probe last found it.
                    Waiting.until(() -> !api.get("/status").json().get("services").get("kafka").get("reachable")
                            .asBoolean(), "/status to report Kafka away", LONG);
                    // Searches do not need Kafka.
                    assertThat(api.postFile("/search", late).status()).isEqualTo(200);
                } finally {
                    kafka.restart();
                }
                long restartedAt = System.nanoTime();

                // Uploads work again once the producer has found the broker back.
                long[] lateId = new long[1];
                int[] attempts = {0};
                Waiting.until(() -> {
                    attempts[0]++;
                    ApiClient.Response r = api.postMultipart("/upload", List.of(Part.file("file", "late.jpg", late)));
                    if (r.status() == 202) {
                        lateId[0] = r.json().get("image_id").asLong();
                        return true;
                    }
                    assertThat(r.status()).as(r.toString()).isEqualTo(503);
                    return false;
                }, "an upload to be taken again", LONG);
                double uploadsAgainAfter = seconds(restartedAt);
                taken.add(lateId[0]);

                for (long id : taken) {
                    Waiting.until(() -> {
                        JsonNode image = api.get("/images/" + id).json();
                        return "indexed".equals(image.get("state").asText()) && image.get("searchable").asBoolean();
                    }, "upload " + id + " to be indexed", LONG);
                }
                LOG.info("Kafka back: uploads taken again after {} s ({} tries), all {} uploads indexed after {} s; "
                        + "{} refused while it was away", String.format("%.1f", uploadsAgainAfter), attempts[0],
                        taken.size(), String.format("%.1f", seconds(restartedAt)), refused);
                // The log kept every record it took across the restart.
                assertThat(publishedIds(kafka, env.getOrDefault("KAFKA_UPLOADS_TOPIC", "imsrc.uploads")))
                        .containsAll(taken);
            } finally {
                ingest.stop();
            }
        }
    }

    private static String readyCheck(ApiClient api, String name) {
        return api.get("/health/ready").json().get("checks").get(name).asText();
    }

    /** How often the job has failed over, from the local Flink's REST API. */
    private static int restarts(ServingIngest ingest) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(ingest.dashboardUrl() + "/jobs/" + ingest.jobId() + "/exceptions"))
                        .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body()).path("exceptionHistory").path("entries").size();
    }

    private static Set<Long> publishedIds(EmbeddedKafkaBroker kafka, String topic) throws Exception {
        Set<Long> ids = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    ids.add(UploadRecordCodec.decode(r.value()).imageId());
                }
            }
        }
        return ids;
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }
}
