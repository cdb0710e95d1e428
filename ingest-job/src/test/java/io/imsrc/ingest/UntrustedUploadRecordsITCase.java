package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.ingest.record.StorableValues;
import io.imsrc.ingest.source.upload.UploadSourceOptions;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.Waiting;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka records are untrusted bytes: records written straight to the uploads topic with a plain
 * producer, each broken in one way, become dead letters with their reasons while the job runs on
 * without a single restart, and the good uploads after them are stored.
 */
class UntrustedUploadRecordsITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final long MAX_IMAGE_BYTES = 100_000;
    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");

    /** Offsets in a record without texts (UploadRecordCodec's layout, version 1). */
    private static final int VERSION_AT = 4;
    private static final int ID_AT = 5;
    private static final int NAME_LENGTH_AT = 21;
    private static final int IMAGE_LENGTH_AT = NAME_LENGTH_AT + 3 * 4;

    @TempDir Path temp;

    /**
     * One record to write and what the job must make of it.
     *
     * @param imageId the upload the dead letter is recorded for, or 0 for none
     * @param keyedByPosition whether the record cannot be read, so its dead letter is keyed by its
     *     position in the topic rather than by its image id
     */
    private record Bad(String what, byte[] key, byte[] value, String reason, long imageId, boolean keyedByPosition) {}

    private static int counter;

    /** Bytes of a distinct would-be image each time, so that every bad record names its own upload. */
    private static byte[] bytes() {
        return ("bad upload " + ++counter).getBytes(StandardCharsets.US_ASCII);
    }

    private static UploadRecord upload(String name, String type, String category, Instant receivedAt) {
        return UploadRecord.of(bytes(), name, type, category, receivedAt);
    }

    private static Bad invalid(String what, UploadRecord upload, String reason) {
        return new Bad(what, UploadRecordCodec.key(upload.imageId()), UploadRecordCodec.encode(upload), reason,
                upload.imageId(), false);
    }

    private static Bad malformed(String what, byte[] key, byte[] value, long claimedId) {
        return new Bad(what, key, value, "MALFORMED_RECORD", claimedId, true);
    }

    /** A well-formed record without texts, patched by the caller. */
    private static ByteBuffer plain(UploadRecord upload) {
        return ByteBuffer.wrap(UploadRecordCodec.encode(new UploadRecord(upload.imageId(), upload.image(), null, null,
                null, upload.receivedAt())));
    }

    private static List<Bad> badRecords(byte[] jpeg) {
        List<Bad> bad = new ArrayList<>();
        // Not an upload record of this version.
        bad.add(malformed("text", UploadRecordCodec.key(1001), "garbage".getBytes(StandardCharsets.UTF_8), 1001));
        bad.add(malformed("no value (a tombstone)", UploadRecordCodec.key(1002), null, 1002));
        bad.add(malformed("an empty value without a key", null, new byte[0], 0));
        UploadRecord u = upload(null, null, null, NOW);
        ByteBuffer v2 = plain(u);
        v2.put(VERSION_AT, (byte) 2);
        bad.add(malformed("version 2", UploadRecordCodec.key(u.imageId()), v2.array(), u.imageId()));
        u = upload("cut.jpg", "image/jpeg", null, NOW);
        byte[] whole = UploadRecordCodec.encode(u);
        bad.add(malformed("cut short", UploadRecordCodec.key(u.imageId()), Arrays.copyOf(whole, whole.length / 2),
                u.imageId()));
        u = upload("long.jpg", null, null, NOW);
        whole = UploadRecordCodec.encode(u);
        bad.add(malformed("a byte too many", UploadRecordCodec.key(u.imageId()), Arrays.copyOf(whole, whole.length + 1),
                u.imageId()));
        u = upload(null, null, null, NOW);
        ByteBuffer absurd = plain(u);
        absurd.putInt(IMAGE_LENGTH_AT, Integer.MAX_VALUE);
        bad.add(malformed("an image length of 2 GiB", UploadRecordCodec.key(u.imageId()), absurd.array(), u.imageId()));
        u = upload(null, null, null, NOW);
        ByteBuffer negative = plain(u);
        negative.putInt(NAME_LENGTH_AT, -5);
        bad.add(malformed("a negative name length", UploadRecordCodec.key(u.imageId()), negative.array(), u.imageId()));
        u = upload(null, null, null, NOW);
        byte[] p = plain(u).array();
        ByteBuffer oversize = ByteBuffer.allocate(p.length + 5000).put(p, 0, NAME_LENGTH_AT).putInt(5000).put(new byte[5000])
                .put(p, NAME_LENGTH_AT + 4, p.length - NAME_LENGTH_AT - 4);
        bad.add(malformed("a name of 5,000 bytes", UploadRecordCodec.key(u.imageId()), oversize.array(), u.imageId()));
        u = upload("ab", null, null, NOW);
        byte[] notUtf8 = UploadRecordCodec.encode(u);
        notUtf8[NAME_LENGTH_AT + 4] = (byte) 0xC3; // a two-byte sequence whose second byte is no continuation
        notUtf8[NAME_LENGTH_AT + 5] = (byte) 0x28;
        bad.add(malformed("a name that is not UTF-8", UploadRecordCodec.key(u.imageId()), notUtf8, u.imageId()));
        for (long id : new long[] {0, -7}) {
            u = upload(null, null, null, NOW);
            ByteBuffer zero = plain(u);
            zero.putLong(ID_AT, id);
            bad.add(malformed("image id " + id, UploadRecordCodec.key(u.imageId()), zero.array(), u.imageId()));
        }

        // Decodes, but cannot be stored as it is.
        u = upload("keyless.jpg", null, null, NOW);
        bad.add(new Bad("no key", null, UploadRecordCodec.encode(u), "INVALID_RECORD", u.imageId(), false));
        u = upload("other.jpg", null, null, NOW);
        bad.add(new Bad("the key of another id", UploadRecordCodec.key(u.imageId() + 1), UploadRecordCodec.encode(u),
                "INVALID_RECORD", u.imageId(), false));
        u = upload("cat.jpg", null, null, NOW);
        bad.add(new Bad("a key that is no id", "cat".getBytes(StandardCharsets.US_ASCII), UploadRecordCodec.encode(u),
                "INVALID_RECORD", u.imageId(), false));
        for (long millis : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, -1, StorableValues.LATEST_MILLIS + 1}) {
            bad.add(invalid("received at " + millis + " ms", upload("time.jpg", null, null, Instant.ofEpochMilli(millis)),
                    "INVALID_RECORD"));
        }
        bad.add(invalid("a NUL in the name", upload("nul\0.jpg", "image/jpeg", null, NOW), "INVALID_RECORD"));
        bad.add(invalid("a NUL in the content type", upload("type.jpg", "image/jpeg\0", null, NOW), "INVALID_RECORD"));
        bad.add(invalid("a NUL in the category", upload("c.jpg", null, "c\0t", NOW), "INVALID_CATEGORY"));
        bad.add(invalid("a category of 201 characters", upload("c.jpg", null, "c".repeat(201), NOW), "INVALID_CATEGORY"));
        bad.add(invalid("an empty category", upload("c.jpg", null, "", NOW), "INVALID_CATEGORY"));
        bad.add(invalid("a line break in the category", upload("c.jpg", null, "ca\nt", NOW), "INVALID_CATEGORY"));

        // Well-formed records whose bytes are refused.
        bad.add(invalid("no image bytes", UploadRecord.of(new byte[0], "empty.jpg", null, null, NOW), "EMPTY"));
        byte[] big = new byte[(int) MAX_IMAGE_BYTES + 1];
        Arrays.fill(big, (byte) 7);
        bad.add(invalid("an image over the limit", UploadRecord.of(big, "big.png", null, null, NOW), "TOO_LARGE"));
        bad.add(invalid("another image's id", new UploadRecord(ImageId.of(bytes()), bytes(), "lie.jpg", null, null, NOW),
                "ID_MISMATCH"));
        bad.add(invalid("text, not an image", upload("notes.jpg", "image/jpeg", null, NOW), "NOT_AN_IMAGE"));
        bad.add(invalid("half a JPEG", UploadRecord.of(Arrays.copyOf(jpeg, jpeg.length / 2), "half.jpg", null, null, NOW),
                "TRUNCATED"));
        return bad;
    }

    @Test
    void every_hostile_record_is_a_dead_letter_with_its_reason_the_job_never_restarts_and_good_uploads_are_stored(
            @InjectMiniCluster MiniCluster flink) throws Exception {
        String topic = SharedKafka.newTopic("hostile", 1);
        TestDatabase db = TestDatabase.create("hostile", SchemaMigrations::migrate);
        List<CifarData.Sample> samples = CifarData.sample("test", 1);
        List<Bad> bad = badRecords(samples.get(1).bytes());
        UploadRecord good = UploadRecord.of(samples.get(3).bytes(), "good cat.jpg", "image/jpeg", "cat", NOW);
        // An upload the query server gave up on (its publication looked lost) that reaches the job after all.
        UploadRecord late = UploadRecord.of(samples.get(8).bytes(), "late.jpg", "image/jpeg", null, NOW);
        db.execute("INSERT INTO uploads (image_id, state, reason, received_at) VALUES (" + late.imageId()
                + ", 'rejected', 'NOT_PUBLISHED', now())");

        JobClient job = IngestFixtures.start(IngestFixtures.options(db, temp)
                .maxImageBytes(MAX_IMAGE_BYTES)
                .uploads(new UploadSourceOptions(SharedKafka.get().bootstrapServers(), topic, "ingest-" + topic))
                .build());
        Map<String, String> expectedReasons = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.get().bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1 << 20,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Bad b : bad) {
                RecordMetadata at = producer.send(new ProducerRecord<>(topic, b.key(), b.value())).get();
                String recordKey = b.keyedByPosition() ? topic + "-" + at.partition() + "@" + at.offset()
                        : Long.toString(b.imageId());
                assertThat(expectedReasons.put(recordKey, b.reason())).as("one dead letter per record").isNull();
            }
            for (UploadRecord u : List.of(good, late)) {
                producer.send(new ProducerRecord<>(topic, UploadRecordCodec.key(u.imageId()), UploadRecordCodec.encode(u)))
                        .get();
            }
            Waiting.until(() -> {
                assertThat(MiniClusters.restarts(flink, job.getJobID())).as("restarts while the records are read").isZero();
                return db.count("SELECT count(*) FROM uploads WHERE state = 'indexed'") == 2
                        && db.count("SELECT count(*) FROM dead_letters") >= bad.size();
            }, "the good uploads and the dead letters");
            Waiting.until(() -> IngestFixtures.prototypesAreExactMeans(db), "the prototypes to follow");

            var graph = flink.getExecutionGraph(job.getJobID()).get();
            assertThat(graph.getState()).isEqualTo(JobStatus.RUNNING);
            assertThat(graph.getFailureInfo()).as("the job's failure").isNull();
            assertThat(MiniClusters.restarts(flink, job.getJobID())).as("restarts").isZero();
        } finally {
            if (!job.getJobStatus().get().isGloballyTerminalState()) {
                job.cancel().get();
            }
        }

        Map<String, String> reasons = new HashMap<>();
        for (Map<String, Object> row : db.rows("SELECT record_key, reason, detail, source FROM dead_letters")) {
            reasons.put((String) row.get("record_key"), (String) row.get("reason"));
            assertThat((String) row.get("detail")).as("detail of %s", row).isNotBlank();
            assertThat(row.get("source")).isEqualTo("upload");
        }
        assertThat(reasons).containsExactlyInAnyOrderEntriesOf(expectedReasons);

        // Each refused upload that names an id is rejected with its reason; nothing else has a row.
        Map<Long, String> expectedStates = new HashMap<>();
        for (Bad b : bad) {
            if (b.imageId() > 0) {
                expectedStates.put(b.imageId(), "rejected " + b.reason());
            }
        }
        expectedStates.put(good.imageId(), "indexed null");
        expectedStates.put(late.imageId(), "indexed null");
        Map<Long, String> states = new HashMap<>();
        for (Map<String, Object> row : db.rows("SELECT image_id, state, reason FROM uploads")) {
            states.put((Long) row.get("image_id"), row.get("state") + " " + row.get("reason"));
        }
        assertThat(states).containsExactlyInAnyOrderEntriesOf(expectedStates);
        assertThat(db.count("SELECT count(*) FROM uploads WHERE extract(year FROM received_at) NOT BETWEEN 1970 AND 9999"))
                .as("upload times outside the range").isZero();
        assertThat(db.rows("SELECT original_name FROM dead_letters WHERE reason = 'INVALID_RECORD' AND original_name "
                + "LIKE 'nul%'")).containsExactly(Map.of("original_name", "nul\uFFFD.jpg"));

        assertThat(db.rows("SELECT image_id FROM images")).extracting(r -> r.get("image_id"))
                .containsExactlyInAnyOrder(good.imageId(), late.imageId());
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(2);
        assertThat(db.count("SELECT count(*) FROM categories")).as("the ten CIFAR-10 categories, none added").isEqualTo(10);
        IngestFixtures.assertPrototypesAreExactMeans(db);
    }
}
