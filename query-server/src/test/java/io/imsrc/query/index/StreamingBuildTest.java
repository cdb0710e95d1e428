package io.imsrc.query.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.faiss.IndexSpec;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.common.faiss.SearchResult;
import io.imsrc.testing.TestVectors;
import io.imsrc.testing.TestVectors.Labelled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A build fed a row at a time holds every row, in the index kind its category's size calls for. */
class StreamingBuildTest {

    private static final int DIMENSION = 16;

    @Test
    void rows_interleaved_across_categories_all_land_in_their_own_index_across_chunk_boundaries() {
        Map<String, List<Labelled>> clusters = TestVectors.clustered(4, 53, DIMENSION, 1); // 53: no multiple of 8
        List<Labelled> stream = interleaved(clusters);
        StreamingBuild build = new StreamingBuild("m", IndexType.FLATL2, DIMENSION, 0, sizes(clusters), 8);
        long seq = 0;
        for (Labelled row : stream) {
            assertThat(build.accept(row.id(), row.category(), row.vector(), ++seq, 1000 + seq)).isTrue();
        }
        assertThat(build.accept(stream.get(0).id(), stream.get(0).category(), stream.get(0).vector(), ++seq, 0))
                .as("an id read twice is taken once")
                .isFalse();
        IndexSnapshot snapshot = build.finish();
        try {
            assertThat(snapshot.size()).isEqualTo(4 * 53);
            assertThat(snapshot.newestSeq()).isEqualTo(seq);
            assertThat(snapshot.categoryNames()).containsExactlyInAnyOrder("c0", "c1", "c2", "c3");
            for (Labelled row : stream) {
                CategoryIndex index = snapshot.category(row.category());
                assertThat(index.size()).isEqualTo(53);
                SearchResult nearest = index.search(row.vector(), 1);
                assertThat(nearest.id(0, 0)).as("a vector's nearest is itself").isEqualTo(row.id());
                assertThat(snapshot.holds(row.id())).isTrue();
            }
        } finally {
            snapshot.release();
        }
    }

    @Test
    void a_category_large_enough_for_ivf_trains_on_a_sample_first_then_takes_chunks() {
        int n = 30_000; // IVF needs 39 points per list at 4 sqrt(n) lists: from about 24,300
        Map<String, List<Labelled>> clusters = TestVectors.clustered(1, n, DIMENSION, 2);
        clusters.put("small", TestVectors.clustered(1, 100, DIMENSION, 3).get("c0").stream()
                .map(row -> new Labelled(row.id(), "small", row.vector()))
                .toList());
        StreamingBuild build = new StreamingBuild("m", IndexType.IVFFLAT, DIMENSION, 0, sizes(clusters), 1000);
        long seq = 0;
        for (Labelled row : interleaved(clusters)) {
            build.accept(row.id(), row.category(), row.vector(), ++seq, seq);
        }
        IndexSnapshot snapshot = build.finish();
        try {
            CategoryIndex large = snapshot.category("c0");
            assertThat(large.spec()).isEqualTo(IndexType.IVFFLAT.spec(n, DIMENSION)).isInstanceOf(IndexSpec.Ivf.class);
            assertThat(large.size()).isEqualTo(n);
            assertThat(snapshot.category("small").spec()).isInstanceOf(IndexSpec.Flat.class);
            assertThat(selfHits(large, clusters.get("c0"), 300)).as("self-hits of 100 probes, trained lists and all")
                    .isGreaterThanOrEqualTo(95);
        } finally {
            snapshot.release();
        }
    }

    @Test
    void an_ivf_category_is_calibrated_on_its_sample_and_saved_with_its_setting(@TempDir Path temp) {
        // One category made of 300 tight clusters, as real embeddings of a category are.
        List<Labelled> rows = tightCategory(300 * 100, 17);
        IndexSnapshot snapshot = inOrder(new StreamingBuild("m", IndexType.IVFFLAT, DIMENSION, 0,
                Map.of("c", (long) rows.size()), 1000), rows);
        try {
            CategoryIndex index = snapshot.category("c");
            int nlist = ((IndexSpec.Ivf) index.spec()).nlist();
            assertThat(index.nprobe()).as("nlist %d", nlist).isLessThan(CategoryIndex.nprobe(nlist));

            Path manifest = temp.resolve("index.bin");
            IndexFiles.save(snapshot, manifest, IndexFiles.Written.NONE);
            IndexSnapshot read = IndexFiles.read(manifest, "m", IndexType.IVFFLAT).orElseThrow().snapshot();
            try {
                assertThat(read.category("c").nprobe()).isEqualTo(index.nprobe());
            } finally {
                read.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            snapshot.release();
        }
    }

    @Test
    void the_calibrations_exact_answers_take_in_the_chunks_after_the_sample() {
        // 70,000 rows in 300 tight clusters: the training sample (64 per list) leaves a few thousand
        // to come in chunks. Near copies of the calibration queries come last, so a query's true 10
        // nearest include three rows from those chunks: answers gathered from the sample alone would
        // miss them, no nprobe would reach 0.97 against them, and the fallback nlist / 2 would stay.
        List<Labelled> rows = tightCategory(70_000, 23);
        int copies = 3;
        long size = rows.size() + (long) CategoryIndex.CALIBRATION_QUERIES * copies;
        IndexSpec spec = IndexType.IVFFLAT.spec(size, DIMENSION);
        int sample = (int) CategoryIndex.trainingSampleSize(spec, size);
        assertThat(sample).as("a sample smaller than the category").isLessThan(rows.size());
        Random random = new Random(24);
        long nextId = 10_000_000;
        List<Labelled> nearCopies = new ArrayList<>();
        for (int q = 0; q < CategoryIndex.CALIBRATION_QUERIES; q++) {
            float[] query = rows.get((int) ((long) q * sample / CategoryIndex.CALIBRATION_QUERIES)).vector();
            for (int c = 0; c < copies; c++) {
                float[] copy = query.clone();
                for (int j = 0; j < DIMENSION; j++) {
                    copy[j] += (float) (1e-4 * random.nextGaussian());
                }
                nearCopies.add(new Labelled(nextId++, "c", TestVectors.unit(copy)));
            }
        }
        rows.addAll(nearCopies);

        StreamingBuild build = new StreamingBuild("m", IndexType.IVFFLAT, DIMENSION, 0, Map.of("c", size), 1000);
        IndexSnapshot snapshot = inOrder(build, rows);
        try {
            CategoryIndex index = snapshot.category("c");
            assertThat(index.spec()).isEqualTo(spec);
            assertThat(index.building()).as("the build ended: later adds go to the nearest list").isFalse();
            assertThat(index.nprobe()).as("nlist %d", ((IndexSpec.Ivf) spec).nlist())
                    .isLessThan(CategoryIndex.nprobe(((IndexSpec.Ivf) spec).nlist()));
            StreamingBuild.Times times = build.times();
            assertThat(times.trainingNanos()).isPositive();
            assertThat(times.addingNanos()).isPositive();
            assertThat(times.exactNanos()).isPositive();
            assertThat(times.calibratingNanos()).isPositive();
        } finally {
            snapshot.release();
        }
    }

    @Test
    void the_logged_times_name_only_the_stages_the_build_had() {
        long ms = 1_000_000;
        assertThat(new StreamingBuild.Times(0, 1_500 * ms, 0, 0)).hasToString("adding 1500 ms");
        assertThat(new StreamingBuild.Times(7 * ms, 20 * ms, 0, 0)).hasToString("training 7 ms, adding 20 ms");
        assertThat(new StreamingBuild.Times(4_388 * ms, 2_328 * ms, 778 * ms, 291 * ms))
                .hasToString("training 4388 ms, adding 2328 ms, exact answers 778 ms, calibration 291 ms");
    }

    @Test
    void a_quantizer_trains_on_its_sample_before_the_chunks_that_follow() {
        Map<String, List<Labelled>> clusters = TestVectors.clustered(1, 5_000, DIMENSION, 4);
        StreamingBuild build = new StreamingBuild("m", IndexType.SQ8, DIMENSION, 0, sizes(clusters), 256);
        long seq = 0;
        for (Labelled row : clusters.get("c0")) {
            build.accept(row.id(), row.category(), row.vector(), ++seq, seq);
        }
        IndexSnapshot snapshot = build.finish();
        try {
            CategoryIndex index = snapshot.category("c0");
            assertThat(index.spec()).isInstanceOf(IndexSpec.Sq8.class);
            assertThat(index.size()).isEqualTo(5_000);
            assertThat(selfHits(index, clusters.get("c0"), 50)).as("self-hits of 100 probes through 8-bit codes")
                    .isGreaterThanOrEqualTo(90);
        } finally {
            snapshot.release();
        }
    }

    @Test
    void a_vector_of_another_width_fails_the_build_which_frees_what_it_made() {
        StreamingBuild build = new StreamingBuild("m", IndexType.FLATL2, DIMENSION, 0, Map.of("a", 2L), 8);
        build.accept(1, "a", TestVectors.unit(new float[DIMENSION]), 1, 1);
        assertThatThrownBy(() -> build.accept(2, "a", new float[DIMENSION + 1], 2, 2))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("image 2 has a vector of 17 dimensions, the index 16");
        build.abandon();
        assertThatThrownBy(() -> build.accept(3, "a", new float[DIMENSION], 3, 3)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void a_category_the_sizes_did_not_name_gets_the_kind_of_an_empty_one() {
        StreamingBuild build = new StreamingBuild("m", IndexType.IVFFLAT, DIMENSION, 0, Map.of(), 8);
        float[] v = TestVectors.randomUnit(new Random(1), DIMENSION);
        build.accept(5, "late", v, 1, 1);
        IndexSnapshot snapshot = build.finish();
        try {
            assertThat(snapshot.category("late").spec()).isInstanceOf(IndexSpec.Flat.class);
            assertThat(snapshot.category("late").search(v, 1).id(0, 0)).isEqualTo(5);
        } finally {
            snapshot.release();
        }
    }

    @Test
    void a_category_smaller_than_its_count_gets_the_kind_of_the_vectors_read() {
        // Counted as IVF-sized (nlist for 100,000 is 1,265), with 500 and 30,000 vectors in fact.
        Map<String, List<Labelled>> small = TestVectors.clustered(1, 500, DIMENSION, 5);
        List<Labelled> medium = tightCategory(30_000, 6).stream()
                .map(r -> new Labelled(r.id() + 10_000_000L, "m", r.vector())).toList();
        List<Labelled> rows = new ArrayList<>(small.get("c0"));
        rows.addAll(medium);
        StreamingBuild build = new StreamingBuild("m", IndexType.IVFFLAT, DIMENSION, 0,
                Map.of("c0", 100_000L, "m", 100_000L), 1000);

        IndexSnapshot snapshot = inOrder(build, rows);
        try {
            CategoryIndex few = snapshot.category("c0");
            assertThat(few.spec()).isEqualTo(IndexType.IVFFLAT.spec(500, DIMENSION)).isInstanceOf(IndexSpec.Flat.class);
            assertThat(few.size()).isEqualTo(500);
            assertThat(selfHits(few, small.get("c0"), 1)).isEqualTo(500);
            CategoryIndex more = snapshot.category("m");
            assertThat(more.spec()).isEqualTo(IndexType.IVFFLAT.spec(30_000, DIMENSION))
                    .isNotEqualTo(IndexType.IVFFLAT.spec(100_000, DIMENSION));
            assertThat(more.size()).isEqualTo(30_000);
            assertThat(selfHits(more, medium, 100)).as("self-hits of 300 of its vectors").isGreaterThanOrEqualTo(285);
        } finally {
            snapshot.release();
        }
    }

    @Test
    void a_negative_count_builds_as_an_empty_one_and_a_count_without_rows_makes_no_index() {
        Map<String, List<Labelled>> clusters = TestVectors.clustered(1, 40, DIMENSION, 8);
        StreamingBuild build = new StreamingBuild("m", IndexType.IVFFLAT, DIMENSION, 0,
                Map.of("c0", -3L, "gone", 100_000L), 16);

        IndexSnapshot snapshot = inOrder(build, clusters.get("c0"));
        try {
            assertThat(snapshot.categoryNames()).containsExactly("c0");
            assertThat(snapshot.category("c0").spec()).isInstanceOf(IndexSpec.Flat.class);
            assertThat(selfHits(snapshot.category("c0"), clusters.get("c0"), 1)).isEqualTo(40);
        } finally {
            snapshot.release();
        }
    }

    /** About {@code n} rows of one category "c" in 300 tight clusters, as real embeddings of a category are. */
    private static List<Labelled> tightCategory(int n, long seed) {
        List<Labelled> rows = new ArrayList<>();
        TestVectors.clustered(300, n / 300, DIMENSION, seed).values()
                .forEach(list -> list.forEach(r -> rows.add(new Labelled(r.id(), "c", r.vector()))));
        return rows;
    }

    /** Feeds {@code rows} in their order, numbered 1, 2, ..., and finishes the build. */
    private static IndexSnapshot inOrder(StreamingBuild build, List<Labelled> rows) {
        long seq = 0;
        for (Labelled row : rows) {
            build.accept(row.id(), row.category(), row.vector(), ++seq, seq);
        }
        return build.finish();
    }

    private static Map<String, Long> sizes(Map<String, List<Labelled>> clusters) {
        Map<String, Long> sizes = new HashMap<>();
        clusters.forEach((category, rows) -> sizes.put(category, (long) rows.size()));
        return sizes;
    }

    /** The rows in id-scrambled order across categories, as a table written by several writers mixes them. */
    private static List<Labelled> interleaved(Map<String, List<Labelled>> clusters) {
        List<Labelled> all = new ArrayList<>();
        clusters.values().forEach(all::addAll);
        all.sort(Comparator.comparingLong(row -> Long.rotateLeft(row.id() * 0x9E3779B97F4A7C15L, 17)));
        return all;
    }

    /** How many of every {@code step}-th row find themselves first. */
    private static int selfHits(CategoryIndex index, List<Labelled> rows, int step) {
        int found = 0;
        for (int i = 0; i < rows.size(); i += step) {
            if (index.search(rows.get(i).vector(), 1).id(0, 0) == rows.get(i).id()) {
                found++;
            }
        }
        return found;
    }
}
