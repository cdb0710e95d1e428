package io.imsrc.ingest.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.ingest.record.DeadLetter;
import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.EmbeddedImage;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.PrototypeRow;
import io.imsrc.ingest.record.StorableValues;
import io.imsrc.ingest.record.StoredImage;
import io.imsrc.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sinks' statements against a real PostgreSQL, one record at a time. */
class SinkStatementsITCase {

    private static final String MODEL = "test-model-000000000000";

    private TestDatabase db;

    @BeforeEach
    void database() throws Exception {
        db = TestDatabase.create("sink", SchemaMigrations::migrate);
    }

    private <T> void write(String sql, JdbcStatementBuilder<T> builder, T record) throws Exception {
        try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(sql)) {
            builder.accept(s, record);
            s.execute();
        }
    }

    private static EmbeddedImage image(String content, SourceKind source, String category, Float confidence) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        byte[] sha = ImageId.sha256(bytes);
        ImageMeta meta = new ImageMeta(ImageId.fromSha256(sha), sha, source,
                source == SourceKind.UPLOAD ? Long.toString(ImageId.fromSha256(sha)) : "dir#" + content,
                content + ".jpg", source == SourceKind.UPLOAD ? "image/jpeg" : null, 1_700_000_000_000L);
        return new EmbeddedImage(meta, new StoredImage(bytes, "jpeg", 32, 32), category, confidence != null, confidence,
                new float[] {content.length(), 1, 0});
    }

    @Test
    void a_batch_writes_images_vectors_new_categories_and_upload_states_once() throws Exception {
        EmbeddedImage zebra = image("stripes", SourceKind.FOLDER, "zebra", null);
        EmbeddedImage cat = image("whiskers", SourceKind.UPLOAD, "cat", 0.9f);
        db.execute("INSERT INTO uploads (image_id, state, received_at) VALUES (" + cat.meta().imageId()
                + ", 'queued', now())");
        EmbeddedBatch batch = new EmbeddedBatch(List.of(zebra, cat));
        ImageBatchStatement statement = new ImageBatchStatement(MODEL);

        write(ImageBatchStatement.SQL, statement, batch);
        write(ImageBatchStatement.SQL, statement, batch);

        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(2);
        assertThat(db.count("SELECT count(*) FROM vectors WHERE model_id = ?", MODEL)).isEqualTo(2);
        assertThat(db.count("SELECT count(*) FROM categories WHERE category_name = 'zebra'")).isEqualTo(1);
        Map<String, Object> upload = db.rows("SELECT i.category_assignment, i.category_confidence, i.source, u.state, "
                + "u.content_type, v.embedding FROM images i JOIN uploads u USING (image_id) JOIN vectors v USING (image_id) "
                + "WHERE i.image_id = ?", cat.meta().imageId()).get(0);
        assertThat(upload.get("category_assignment")).isEqualTo("predicted");
        assertThat(upload.get("category_confidence")).isEqualTo(0.9f);
        assertThat(upload.get("source")).isEqualTo("upload");
        assertThat(upload.get("state")).isEqualTo("indexed");
        assertThat(upload.get("embedding")).isEqualTo(new Float[] {8f, 1f, 0f});
        assertThat(db.count("SELECT count(*) FROM dead_letters")).isZero();
    }

    @Test
    void an_id_stored_for_other_bytes_gets_no_vector_and_becomes_a_dead_letter() throws Exception {
        EmbeddedImage real = image("original", SourceKind.FOLDER, "cat", null);
        write(ImageBatchStatement.SQL, new ImageBatchStatement(MODEL), new EmbeddedBatch(List.of(real)));
        // Other bytes claiming the same id, arriving as an upload.
        EmbeddedImage other = image("impostor", SourceKind.UPLOAD, "dog", null);
        ImageMeta forged = new ImageMeta(real.meta().imageId(), other.meta().sha256(), SourceKind.UPLOAD,
                Long.toString(real.meta().imageId()), "impostor.jpg", "image/jpeg", 0);
        EmbeddedImage collision = new EmbeddedImage(forged, other.stored(), "dog", false, null, other.vector());

        write(ImageBatchStatement.SQL, new ImageBatchStatement("other-model-000000000000"),
                new EmbeddedBatch(List.of(collision)));

        assertThat(db.count("SELECT count(*) FROM vectors WHERE model_id = 'other-model-000000000000'")).isZero();
        assertThat(db.rows("SELECT reason, source FROM dead_letters"))
                .containsExactly(Map.of("reason", "HASH_COLLISION", "source", "upload"));
        assertThat(db.rows("SELECT state, reason FROM uploads"))
                .containsExactly(Map.of("state", "rejected", "reason", "HASH_COLLISION"));
        assertThat(db.rows("SELECT original_name FROM images")).containsExactly(Map.of("original_name", "original.jpg"));
    }

    @Test
    void a_prototype_creates_its_category_when_the_images_have_not_yet() throws Exception {
        write(PrototypeStatement.SQL, new PrototypeStatement(MODEL), new PrototypeRow("okapi", new float[] {1, 2}, 3));
        write(PrototypeStatement.SQL, new PrototypeStatement(MODEL), new PrototypeRow("okapi", new float[] {2, 2}, 4));

        List<Map<String, Object>> rows = db.rows("SELECT c.category_name, p.prototype, p.image_count "
                + "FROM _category_prototypes p JOIN categories c USING (category_id)");
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("category_name")).isEqualTo("okapi");
        assertThat((Float[]) rows.get(0).get("prototype")).containsExactly(2f, 2f);
        assertThat(rows.get(0).get("image_count")).isEqualTo(4L);
    }

    @Test
    void a_dead_letter_rejects_its_upload_once_but_never_an_indexed_one() throws Exception {
        ImageMeta upload = new ImageMeta(77, null, SourceKind.UPLOAD, "77", "notes.txt", "text/plain", 0);
        ImageMeta indexed = new ImageMeta(78, null, SourceKind.UPLOAD, "78", "cat.jpg", "image/jpeg", 0);
        ImageMeta anonymous = new ImageMeta(0, null, SourceKind.UPLOAD, "uploads-0@5", null, null, 0);
        db.execute("INSERT INTO uploads (image_id, state, received_at) VALUES (77, 'queued', now()), (78, 'indexed', now())");
        DeadLetterStatement statement = new DeadLetterStatement();

        write(DeadLetterStatement.SQL, statement, new DeadLetter(upload, Rejection.NOT_AN_IMAGE, "text"));
        write(DeadLetterStatement.SQL, statement, new DeadLetter(upload, Rejection.NOT_AN_IMAGE, "text"));
        write(DeadLetterStatement.SQL, statement, new DeadLetter(indexed, Rejection.ID_MISMATCH, "forged"));
        write(DeadLetterStatement.SQL, statement, new DeadLetter(anonymous, Rejection.MALFORMED_RECORD, "garbage"));

        assertThat(db.count("SELECT count(*) FROM dead_letters")).isEqualTo(3);
        assertThat(db.count("SELECT count(*) FROM dead_letters WHERE image_id IS NULL")).isEqualTo(1);
        List<Map<String, Object>> uploads = db.rows("SELECT image_id, state, reason FROM uploads ORDER BY image_id");
        assertThat(uploads).extracting(r -> r.get("image_id"), r -> r.get("state"), r -> r.get("reason"))
                .containsExactly(org.assertj.core.groups.Tuple.tuple(77L, "rejected", "NOT_AN_IMAGE"),
                        org.assertj.core.groups.Tuple.tuple(78L, "indexed", null));
    }

    @Test
    void a_dead_letter_made_of_unstorable_values_is_stored_with_them_made_storable() throws Exception {
        // What a hostile upload record carries: NUL characters, an absurd time, an endless detail.
        ImageMeta hostile = new ImageMeta(79, null, SourceKind.UPLOAD, "79\0", "a\0b.png", "image/\0png", Long.MAX_VALUE);
        String detail = "x".repeat(10_000);

        write(DeadLetterStatement.SQL, new DeadLetterStatement(), new DeadLetter(hostile, Rejection.INVALID_RECORD, detail));

        Map<String, Object> letter = db.rows("SELECT original_name, detail, record_key FROM dead_letters").get(0);
        assertThat(letter.get("original_name")).isEqualTo("a\uFFFDb.png");
        assertThat(letter.get("record_key")).isEqualTo("79\uFFFD");
        assertThat((String) letter.get("detail")).hasSize(StorableValues.MAX_TEXT_CHARS).endsWith("...");
        Map<String, Object> upload = db.rows("SELECT state, reason, content_type, "
                + "extract(epoch FROM received_at) * 1000 AS received_ms FROM uploads WHERE image_id = 79").get(0);
        assertThat(upload.get("state")).isEqualTo("rejected");
        assertThat(upload.get("reason")).isEqualTo("INVALID_RECORD");
        assertThat(upload.get("content_type")).isEqualTo("image/\uFFFDpng");
        assertThat(((Number) upload.get("received_ms")).longValue()).isEqualTo(StorableValues.LATEST_MILLIS);
    }

    @Test
    void a_batch_stores_a_name_with_a_nul_character_with_the_character_replaced() throws Exception {
        // A zip archive may name an entry with a NUL character; one such name must not fail the batch.
        EmbeddedImage plain = image("plain", SourceKind.FOLDER, "zebra", null);
        EmbeddedImage odd = image("odd", SourceKind.FOLDER, "zebra", null);
        ImageMeta m = odd.meta();
        EmbeddedImage nul = new EmbeddedImage(new ImageMeta(m.imageId(), m.sha256(), m.source(), "dir#o\0dd.jpg",
                "o\0dd.jpg", null, m.receivedAtMillis()), odd.stored(), odd.category(), false, null, odd.vector());

        write(ImageBatchStatement.SQL, new ImageBatchStatement(MODEL), new EmbeddedBatch(List.of(plain, nul)));

        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(2);
        assertThat(db.rows("SELECT original_name FROM images WHERE image_id = ?", m.imageId()))
                .containsExactly(Map.of("original_name", "o\uFFFDdd.jpg"));
    }

    @Test
    void a_duplicate_upload_is_marked_indexed() throws Exception {
        db.execute("INSERT INTO uploads (image_id, state, received_at) VALUES (91, 'queued', now())");
        write(IndexedUploadStatement.SQL, new IndexedUploadStatement(),
                new ImageMeta(91, null, SourceKind.UPLOAD, "91", "again.jpg", "image/jpeg", 0));
        assertThat(db.rows("SELECT state FROM uploads WHERE image_id = 91")).containsExactly(Map.of("state", "indexed"));
    }
}
