package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.UploadRecord;
import io.imsrc.common.record.UploadRecordCodec;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.ingest.source.upload.UploadSourceOptions;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestImages;
import io.imsrc.testing.Waiting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Uploads through a real Kafka broker, as the query server publishes them. */
class UploadIngestITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @TempDir Path temp;

    private static KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.get().bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, (int) UploadRecordCodec.maxRecordBytes(10 << 20),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** What the query server does: record the upload as queued, then publish it. */
    private static void upload(TestDatabase db, KafkaProducer<byte[], byte[]> producer, String topic, UploadRecord upload)
            throws Exception {
        try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement("""
                INSERT INTO uploads (image_id, state, original_name, content_type, received_at)
                VALUES (?, 'queued', ?, ?, ?) ON CONFLICT (image_id) DO NOTHING""")) {
            s.setLong(1, upload.imageId());
            s.setString(2, upload.originalName());
            s.setString(3, upload.contentType());
            s.setTimestamp(4, Timestamp.from(upload.receivedAt()));
            s.executeUpdate();
        }
        producer.send(new ProducerRecord<>(topic, UploadRecordCodec.key(upload.imageId()), UploadRecordCodec.encode(upload)))
                .get();
    }

    private static String state(TestDatabase db, long id) throws Exception {
        List<Map<String, Object>> rows = db.rows("SELECT state, reason FROM uploads WHERE image_id = ?", id);
        return rows.isEmpty() ? null : rows.get(0).get("state") + (rows.get(0).get("reason") == null ? ""
                : " " + rows.get(0).get("reason"));
    }

    private IngestJobOptions uploadsOnly(TestDatabase db, String topic) throws Exception {
        return IngestFixtures.options(db, temp)
                .uploads(new UploadSourceOptions(SharedKafka.get().bootstrapServers(), topic, "ingest-" + topic))
                .build();
    }

    @Test
    void uploads_are_indexed_or_rejected_with_their_reason_and_a_restart_repeats_nothing() throws Exception {
        String topic = "uploads-" + System.nanoTime();
        TestDatabase db = TestDatabase.create("uploads", SchemaMigrations::migrate);
        List<CifarData.Sample> samples = CifarData.sample("test", 1);
        // One image is in the store already, from a folder.
        Path folder = CifarData.writeFolder(temp.resolve("stored"), Map.of("dog/stored.jpg", samples.get(5).bytes()));
        IngestFixtures.ingest(db, temp, folder.toString());
        Instant now = Instant.parse("2026-11-24T12:00:00Z");
        UploadRecord labelled = UploadRecord.of(samples.get(3).bytes(), "my cat.jpg", "image/jpeg", "cat", now);
        UploadRecord unlabelled = UploadRecord.of(samples.get(8).bytes(), "boat.jpg", "image/jpeg", null, now);
        UploadRecord alreadyStored = UploadRecord.of(samples.get(5).bytes(), "dog again.jpg", "image/jpeg", null, now);
        UploadRecord text = UploadRecord.of("not an image at all".getBytes(StandardCharsets.UTF_8), "notes.jpg",
                "image/jpeg", null, now);
        byte[] big = TestImages.encode(TestImages.noise(1000, 1000, 5), "png"); // 3 MB, over Kafka's default 1 MB
        UploadRecord large = UploadRecord.of(big, "big.png", "image/png", "noise", now);
        UploadRecord lying = new UploadRecord(ImageId.of(samples.get(0).bytes()), samples.get(1).bytes(), "lie.jpg",
                "image/jpeg", null, now);

        JobClient job = IngestFixtures.start(uploadsOnly(db, topic));
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (UploadRecord u : List.of(labelled, unlabelled, alreadyStored, text, large, lying)) {
                upload(db, producer, topic, u);
            }
            producer.send(new ProducerRecord<>(topic, UploadRecordCodec.key(123), "garbage".getBytes())).get();
            db.execute("INSERT INTO uploads (image_id, state, received_at) VALUES (123, 'queued', now())");

            Waiting.until(() -> db.count("SELECT count(*) FROM uploads WHERE state = 'queued'") == 0,
                    "every upload to be indexed or rejected");
            Waiting.until(() -> IngestFixtures.prototypesAreExactMeans(db), "the prototypes to follow");
        } finally {
            job.cancel().get();
        }

        assertThat(state(db, labelled.imageId())).isEqualTo("indexed");
        assertThat(state(db, unlabelled.imageId())).isEqualTo("indexed");
        assertThat(state(db, alreadyStored.imageId())).isEqualTo("indexed");
        assertThat(state(db, large.imageId())).isEqualTo("indexed");
        assertThat(state(db, text.imageId())).isEqualTo("rejected NOT_AN_IMAGE");
        assertThat(state(db, lying.imageId())).isEqualTo("rejected ID_MISMATCH");
        assertThat(state(db, 123)).isEqualTo("rejected MALFORMED_RECORD");
        Map<String, Object> boat = db.rows("""
                SELECT c.category_name, i.category_assignment, i.category_confidence, i.source, i.original_name
                FROM images i JOIN categories c USING (category_id) WHERE i.image_id = ?""", unlabelled.imageId()).get(0);
        assertThat(boat.get("category_name")).isEqualTo("ship");
        assertThat(boat.get("category_assignment")).isEqualTo("predicted");
        assertThat((Float) boat.get("category_confidence")).isBetween(0.5f, 1f);
        assertThat(boat.get("source")).isEqualTo("upload");
        assertThat(boat.get("original_name")).isEqualTo("boat.jpg");
        assertThat(db.count("SELECT count(*) FROM images WHERE source = 'upload'")).isEqualTo(3);
        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(4);
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(4);
        assertThat(db.count("SELECT count(*) FROM dead_letters WHERE source = 'upload'")).isEqualTo(3);
        IngestFixtures.assertPrototypesAreExactMeans(db);

        // A fresh job on the same topic and group: one new upload; nothing before it is stored twice.
        UploadRecord later = UploadRecord.of(samples.get(9).bytes(), "truck.jpg", "image/jpeg", "truck", now);
        JobClient again = IngestFixtures.start(uploadsOnly(db, topic));
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            upload(db, producer, topic, later);
            Waiting.until(() -> "indexed".equals(state(db, later.imageId())), "the later upload to be indexed");
            Waiting.until(() -> IngestFixtures.prototypesAreExactMeans(db), "the prototypes to follow");
        } finally {
            again.cancel().get();
        }
        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(5);
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(5);
        assertThat(db.count("SELECT count(*) FROM dead_letters")).isEqualTo(3);
        IngestFixtures.assertPrototypesAreExactMeans(db);
    }
}
