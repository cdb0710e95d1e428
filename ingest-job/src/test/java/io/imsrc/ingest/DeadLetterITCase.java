package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.record.ImageId;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class DeadLetterITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @TempDir Path temp;

    /** A valid PNG header announcing a {@code width} x {@code height} image, and no pixel data. */
    private static byte[] pngHeader(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        byte[] ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes(StandardCharsets.US_ASCII))
                .putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array();
        CRC32 crc = new CRC32();
        crc.update(ihdr);
        out.writeBytes(ByteBuffer.allocate(4).putInt(13).array());
        out.writeBytes(ihdr);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        return out.toByteArray();
    }

    @Test
    void every_kind_of_bad_input_becomes_a_dead_letter_and_the_good_images_are_stored() throws Exception {
        List<CifarData.Sample> good = CifarData.sample("train", 1);
        byte[] jpeg = good.get(0).bytes();
        byte[] big = TestImages.encode(TestImages.noise(300, 300, 11), "png");
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (CifarData.Sample s : good) {
            files.put("in/" + s.category() + "/" + s.category() + ".jpg", s.bytes());
        }
        files.put("in/cat/notes.txt", "these are my cat pictures".getBytes(StandardCharsets.UTF_8));
        files.put("in/cat/empty.jpg", new byte[0]);
        files.put("in/cat/truncated.jpg", Arrays.copyOf(jpeg, jpeg.length / 2));
        files.put("in/cat/huge-header.png", pngHeader(100_000, 100_000));
        files.put("in/cat/too-large.png", big);
        files.put("in/cat/picture.webp", "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1));
        Path folder = CifarData.writeFolder(temp.resolve("bad"), files);
        TestDatabase db = TestDatabase.create("dead", SchemaMigrations::migrate);

        IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                .maxImageBytes(big.length - 1)
                .bulkSource(BulkSourceSpec.parse(folder + "#in")).build());

        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(10);
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(10);
        Map<String, String> reasons = new LinkedHashMap<>();
        for (Map<String, Object> row : db.rows("SELECT original_name, reason, detail, source, record_key FROM dead_letters "
                + "ORDER BY original_name")) {
            reasons.put((String) row.get("original_name"), (String) row.get("reason"));
            assertThat((String) row.get("detail")).isNotBlank();
            assertThat(row.get("source")).isEqualTo("folder");
            assertThat((String) row.get("record_key")).endsWith("#" + row.get("original_name"));
        }
        assertThat(reasons).containsExactlyInAnyOrderEntriesOf(Map.of(
                "in/cat/notes.txt", "NOT_AN_IMAGE",
                "in/cat/empty.jpg", "EMPTY",
                "in/cat/truncated.jpg", "TRUNCATED",
                "in/cat/huge-header.png", "TOO_MANY_PIXELS",
                "in/cat/too-large.png", "TOO_LARGE",
                "in/cat/picture.webp", "UNSUPPORTED_FORMAT"));
        assertThat(db.count("SELECT count(*) FROM dead_letters WHERE image_id = ?",
                ImageId.of(Arrays.copyOf(jpeg, jpeg.length / 2)))).as("the id is kept where the bytes were read").isEqualTo(1);
        IngestFixtures.assertPrototypesAreExactMeans(db);

        // A replay of the same source adds no second dead letter.
        IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                .maxImageBytes(big.length - 1)
                .bulkSource(BulkSourceSpec.parse(folder + "#in")).build());
        assertThat(db.count("SELECT count(*) FROM dead_letters")).isEqualTo(6);
        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(10);
    }

    @Test
    void an_id_stored_for_other_bytes_is_a_collision_and_is_not_merged() throws Exception {
        List<CifarData.Sample> good = CifarData.sample("train", 1);
        byte[] victim = good.get(5).bytes();
        TestDatabase db = TestDatabase.create("collision", SchemaMigrations::migrate);
        // Plant a row under the victim's id with another hash: what a SHA-256 prefix collision would leave.
        try (var c = db.connect(); var s = c.prepareStatement("""
                INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                    original_name, category_assignment)
                VALUES (?, 1, ?, 'jpeg', 32, 32, ?, 'folder', 'planted.jpg', 'label')""")) {
            s.setLong(1, ImageId.of(victim));
            byte[] other = "some other image".getBytes(StandardCharsets.UTF_8);
            s.setBytes(2, other);
            s.setBytes(3, ImageId.sha256(other));
            s.executeUpdate();
        }
        Path folder = CifarData.writeFolder(temp.resolve("c"), CifarData.asFiles(good));

        IngestFixtures.runToEnd(IngestFixtures.options(db, temp)
                .bulkSource(BulkSourceSpec.parse(folder + "#cifar-10-jpg/train")).build());

        assertThat(db.rows("SELECT reason FROM dead_letters WHERE image_id = ?", ImageId.of(victim)))
                .extracting(r -> r.get("reason")).containsExactly("HASH_COLLISION");
        assertThat(db.rows("SELECT original_name FROM images WHERE image_id = ?", ImageId.of(victim)))
                .extracting(r -> r.get("original_name")).containsExactly("planted.jpg");
        assertThat(db.count("SELECT count(*) FROM vectors WHERE image_id = ?", ImageId.of(victim))).isZero();
        assertThat(db.count("SELECT count(*) FROM vectors")).isEqualTo(9);
        IngestFixtures.assertPrototypesAreExactMeans(db);
    }

    @Test
    void a_cifar_record_with_an_impossible_label_is_a_dead_letter() throws Exception {
        List<CifarData.BinaryRecord> records = new java.util.ArrayList<>(CifarData.records(CifarData.sample("train", 1)));
        records.add(new CifarData.BinaryRecord(12, records.get(0).pixels()));
        Path archive = CifarData.writeBinaryArchive(temp.resolve("cifar.tar.gz"), Map.of("data_batch_1.bin", records));
        TestDatabase db = TestDatabase.create("label", SchemaMigrations::migrate);

        IngestFixtures.ingest(db, temp, archive.toString());

        assertThat(db.count("SELECT count(*) FROM images")).isEqualTo(10);
        assertThat(db.rows("SELECT reason, original_name FROM dead_letters"))
                .containsExactly(Map.of("reason", "CORRUPT", "original_name", "cifar-10-batches-bin/data_batch_1.bin#10"));
    }
}
