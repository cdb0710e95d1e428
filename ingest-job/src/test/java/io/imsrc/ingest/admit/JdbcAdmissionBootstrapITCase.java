package io.imsrc.ingest.admit;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.admit.AdmissionBootstrap.KeyGroups;
import io.imsrc.ingest.admit.AdmissionBootstrap.StoredImage;
import io.imsrc.testing.TestDatabase;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.util.MathUtils;
import org.junit.jupiter.api.Test;

/**
 * The bootstrap's read of the stored images from a real PostgreSQL: in several fetches, each
 * subtask's share selected in PostgreSQL by Flink's key-group assignment, and every image where
 * that cannot be done.
 */
class JdbcAdmissionBootstrapITCase {

    private static final int IMAGES = 2_500;
    private static final int FETCH_SIZE = 100;
    private static final List<String> CATEGORIES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
            "frog", "horse", "ship", "truck");

    /** A database with {@value #IMAGES} stored images. */
    private static TestDatabase library() throws Exception {
        TestDatabase db = TestDatabase.create("bootstrap", SchemaMigrations::migrate);
        // Images 1..2500 under category 1 + id % 10; the odd ones have a vector of model m, the even
        // ones below 1000 one of another model only, which must not count.
        db.execute("""
                INSERT INTO images (image_id, category_id, image_data, format, width, height, content_hash, source,
                                    original_name, category_assignment)
                SELECT g, 1 + g %% 10, '\\x00'::bytea, 'png', 1, 1, sha256(int8send(g)), 'folder', 'i' || g, 'label'
                FROM generate_series(1, %d) g""".formatted(IMAGES));
        db.execute("INSERT INTO vectors (image_id, model_id, embedding) "
                + "SELECT g, 'm', ARRAY[g, 0.5]::real[] FROM generate_series(1, %d) g WHERE g %% 2 = 1".formatted(IMAGES));
        db.execute("INSERT INTO vectors (image_id, model_id, embedding) "
                + "SELECT g, 'other', ARRAY[1, 1]::real[] FROM generate_series(2, 1000, 2) g");
        return db;
    }

    @Test
    void every_stored_image_comes_once_with_its_vector_of_the_model_across_many_fetches() throws Exception {
        TestDatabase db = library();
        Map<Long, StoredImage> seen = new HashMap<>();
        int[] visits = {0};
        new JdbcAdmissionBootstrap(new DatabaseOptions(db.jdbcUrl(), db.user(), null), "m", FETCH_SIZE)
                .forEachStoredImage(KeyGroups.all(128), image -> {
                    visits[0]++;
                    seen.put(image.imageId(), image);
                });

        assertThat(IMAGES).as("more rows than one fetch").isGreaterThan(10 * FETCH_SIZE);
        assertThat(visits[0]).isEqualTo(IMAGES);
        assertThat(seen).hasSize(IMAGES);
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        for (long id = 1; id <= IMAGES; id++) {
            StoredImage image = seen.get(id);
            assertThat(image.category()).isEqualTo(CATEGORIES.get((int) (id % 10)));
            assertThat(image.sha256()).isEqualTo(sha256.digest(ByteBuffer.allocate(8).putLong(id).array()));
            if (id % 2 == 1) {
                assertThat(image.vector()).containsExactly((float) id, 0.5f);
            } else {
                assertThat(image.vector()).as("image %d has no vector of model m", id).isNull();
            }
        }
    }

    @Test
    void each_subtask_reads_exactly_the_images_of_its_key_groups() throws Exception {
        TestDatabase db = library();
        JdbcAdmissionBootstrap bootstrap =
                new JdbcAdmissionBootstrap(new DatabaseOptions(db.jdbcUrl(), db.user(), null), "m", FETCH_SIZE);
        int maxParallelism = 128;
        Set<Long> all = new HashSet<>();
        for (int subtask = 0; subtask < 3; subtask++) {
            KeyGroupRange range = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(maxParallelism, 3, subtask);
            KeyGroups share = new KeyGroups(maxParallelism, range.getStartKeyGroup(), range.getEndKeyGroup());
            Set<Long> read = new HashSet<>();
            bootstrap.forEachStoredImage(share, image -> assertThat(read.add(image.imageId())).isTrue());

            Set<Long> expected = LongStream.rangeClosed(1, IMAGES).filter(share::contains).boxed().collect(Collectors.toSet());
            assertThat(expected).as("subtask %d has a share", subtask).hasSizeBetween(IMAGES / 6, IMAGES / 2);
            assertThat(read).as("subtask %d", subtask).isEqualTo(expected);
            all.addAll(read);
        }
        assertThat(all).hasSize(IMAGES);
    }

    @Test
    void the_key_group_function_follows_flinks_assignment() throws Exception {
        TestDatabase db = TestDatabase.create("keygroups", SchemaMigrations::migrate);
        List<Long> ids = new ArrayList<>(List.of(1L, 2L, (long) Integer.MAX_VALUE, 1L << 31, (1L << 32) - 1, 1L << 32,
                (1L << 32) + 1, Long.MAX_VALUE, Long.MAX_VALUE - 1, 0x7FFFFFFF00000000L, 0x00000000FFFFFFFFL,
                0x1234567890ABCDEFL));
        // Long.hashCode of 2205091669 is the int whose murmur hash is Integer.MIN_VALUE, which Flink maps to 0
        // (found by trying every int).
        ids.add(2_205_091_669L);
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 5_000; i++) {
            ids.add(random.nextLong(1, Long.MAX_VALUE)); // image ids are positive 63-bit (ImageId)
            ids.add(random.nextLong(1, 1L << 32));
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute(JdbcAdmissionBootstrap.KEY_GROUP_FUNCTION);
            }
            for (int maxParallelism : new int[] {1, 2, 7, 128, 4096, 32768}) {
                // For each id, whether it is in its own key group, in those below and in those above:
                // true, false, false pins the key group down.
                try (PreparedStatement q = c.prepareStatement("""
                        SELECT pg_temp.imsrc_in_key_groups(id, ?, g, g),
                               g > 0 AND pg_temp.imsrc_in_key_groups(id, ?, 0, g - 1),
                               g < ? - 1 AND pg_temp.imsrc_in_key_groups(id, ?, g + 1, ? - 1)
                        FROM unnest(?::bigint[], ?::int[]) WITH ORDINALITY AS t(id, g, n) ORDER BY n""")) {
                    for (int p = 1; p <= 5; p++) {
                        q.setInt(p, maxParallelism);
                    }
                    q.setArray(6, c.createArrayOf("int8", ids.toArray()));
                    q.setArray(7, c.createArrayOf("int4", ids.stream()
                            .map(id -> KeyGroupRangeAssignment.assignToKeyGroup(id, maxParallelism)).toArray()));
                    try (ResultSet rs = q.executeQuery()) {
                        for (long id : ids) {
                            assertThat(rs.next()).isTrue();
                            assertThat(List.of(rs.getBoolean(1), rs.getBoolean(2), rs.getBoolean(3)))
                                    .as("id %d of %d: in its key group, below it, above it", id, maxParallelism)
                                    .containsExactly(true, false, false);
                        }
                        assertThat(rs.next()).isFalse();
                    }
                }
            }
            c.rollback();
        }
        // Only two ints hash to 0: the one whose murmur hash is 0, and this one's, Integer.MIN_VALUE.
        // Had the function taken abs(MIN_VALUE) as 2^31, the max parallelism of 7 would have found it.
        assertThat(MathUtils.murmurHash(Long.hashCode(2_205_091_669L))).isZero();
        assertThat((1L << 31) % 7).isNotZero();
    }

    @Test
    void where_temporary_functions_are_not_allowed_a_subtask_reads_every_image() throws Exception {
        TestDatabase db = library();
        String database = db.rows("SELECT current_database() AS d").get(0).get("d").toString();
        String noTemporary = "reader_" + database.replaceAll("[^a-z0-9_]", "_");
        String readOnly = "standby_" + database.replaceAll("[^a-z0-9_]", "_");
        try {
            // A role without the TEMPORARY privilege (asked before trying), and one whose
            // transactions are read-only, as on a standby (the creation fails).
            db.execute("CREATE ROLE " + noTemporary + " LOGIN");
            db.execute("CREATE ROLE " + readOnly + " LOGIN");
            db.execute("REVOKE TEMPORARY ON DATABASE " + database + " FROM PUBLIC");
            db.execute("GRANT TEMPORARY ON DATABASE " + database + " TO " + readOnly);
            db.execute("ALTER ROLE " + readOnly + " SET default_transaction_read_only = on");
            db.execute("GRANT SELECT ON images, categories, vectors TO " + noTemporary + ", " + readOnly);
            for (String role : List.of(noTemporary, readOnly)) {
                KeyGroups share = new KeyGroups(128, 0, 63);
                Set<Long> read = new HashSet<>();
                new JdbcAdmissionBootstrap(new DatabaseOptions(db.jdbcUrl(), role, null), "m", FETCH_SIZE)
                        .forEachStoredImage(share, image -> read.add(image.imageId()));

                assertThat(read).as("%s: every image, for the operator to pick its own", role).hasSize(IMAGES);
                assertThat(read.stream().filter(share::contains).count()).isBetween(IMAGES / 4L, IMAGES * 3 / 4L);
            }
        } finally {
            for (String role : List.of(noTemporary, readOnly)) {
                db.execute("DROP OWNED BY " + role);
                db.execute("DROP ROLE " + role);
            }
        }
    }
}
