package io.imsrc.query.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.faiss.IndexType;
import io.imsrc.query.search.Hit;
import io.imsrc.query.search.SearchRequest;
import io.imsrc.query.search.VectorSearch;
import io.imsrc.query.store.Database;
import io.imsrc.query.store.VectorRow;
import io.imsrc.query.store.VectorStore;
import io.imsrc.query.testing.VectorRows;
import io.imsrc.testing.TestDatabase;
import io.imsrc.testing.TestVectors;
import io.imsrc.testing.Waiting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class IndexManagerITCase {

    private static final Logger LOG = LoggerFactory.getLogger(IndexManagerITCase.class);
    private static final String MODEL = "test-model-0123456789ab";
    private static final int DIMENSION = 64;
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir Path temp;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private TestDatabase catalogWith(Map<String, List<VectorRow>> rows) throws Exception {
        TestDatabase catalog = TestDatabase.create("index", SchemaMigrations::migrate);
        VectorRows.insert(catalog, rows, MODEL);
        Map<String, Integer> counts = new HashMap<>();
        rows.forEach((c, list) -> counts.put(c, list.size()));
        catalog.writePrototypes(VectorRows.means(rows), counts, MODEL);
        return catalog;
    }

    private IndexManager manager(TestDatabase catalog, IndexType type, Path indexPath) throws Exception {
        Database database = new Database(catalog.jdbcUrl(), catalog.user(), null, 4);
        open.add(database);
        IndexManager manager = new IndexManager(database, new VectorStore(database.pool(), MODEL),
                IndexManager.Settings.of(type, indexPath, DIMENSION, Duration.ofMillis(200)));
        open.add(manager);
        manager.start().awaitReady(DEADLINE);
        return manager;
    }

    private static List<Hit> searchAll(IndexManager manager, float[] query, int limit) {
        try (IndexManager.Lease lease = manager.lease()) {
            return VectorSearch.sequential().search(lease.snapshot(), query, new SearchRequest(limit, 0, false, 3, -1, Set.of(), 0)).hits();
        }
    }

    private static void awaitSearchable(IndexManager manager, long imageId) throws Exception {
        Waiting.until(() -> {
            try (IndexManager.Lease lease = manager.lease()) {
                return lease.snapshot().holds(imageId);
            }
        }, "image " + imageId + " to become searchable", DEADLINE);
    }

    private static Map<String, List<VectorRow>> more(int categories, int perCategory, long seed) {
        // Ids far from the first set's.
        Map<String, List<VectorRow>> rows = VectorRows.clustered(categories, perCategory, DIMENSION, seed);
        Map<String, List<VectorRow>> shifted = new LinkedHashMap<>();
        rows.forEach((c, list) -> shifted.put(c, list.stream()
                .map(r -> new VectorRow(r.imageId() + 50_000_000L * seed, c, r.vector(), 0, 0)).toList()));
        return shifted;
    }

    @Test
    void a_built_generation_is_served_from_its_saved_files_read_back_and_the_built_one_freed() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(3, 150, DIMENSION, 11);
        TestDatabase catalog = catalogWith(rows);
        Database database = new Database(catalog.jdbcUrl(), catalog.user(), null, 2);
        open.add(database);
        VectorStore store = new VectorStore(database.pool(), MODEL);
        IndexSnapshot built = IndexSnapshot.build(MODEL, IndexType.AUTO, DIMENSION, 0, rows);
        SavedIndex saved = new SavedIndex(store, IndexType.AUTO, temp.resolve("index.bin"), Duration.ofMinutes(1));

        IndexSnapshot served = saved.saveAndReadBack(built);
        open.add(served::release);

        assertThat(served).isNotSameAs(built);
        assertThat(built.tryAcquire()).as("the built generation is freed").isFalse();
        assertThat(served.size()).isEqualTo(450);
        assertThat(served.newestSeq()).isEqualTo(built.newestSeq());
        assertThat(served.prototypes()).isSameAs(built.prototypes());
        assertThat(saved.load()).as("and it is what the next start loads").isPresent()
                .hasValueSatisfying(next -> {
                    assertThat(next.size()).isEqualTo(450);
                    next.release();
                });
        Random random = new Random(5);
        for (int q = 0; q < 10; q++) {
            float[] query = TestVectors.randomUnit(random, DIMENSION);
            assertThat(VectorSearch.sequential().search(served, query, new SearchRequest(10, 0, false, 3, -1, Set.of(), 0))
                    .hits()).extracting(Hit::imageId).containsExactlyElementsOf(
                    VectorRows.exactSearch(rows, rows.keySet(), query, 0, 10).stream().map(Hit::imageId).toList());
        }

        // Where it cannot be saved, the built generation is served as it is.
        Path notADirectory = Files.writeString(temp.resolve("file"), "x");
        SavedIndex unsaveable = new SavedIndex(store, IndexType.AUTO, notADirectory.resolve("index.bin"),
                Duration.ofMinutes(1));
        IndexSnapshot kept = IndexSnapshot.build(MODEL, IndexType.AUTO, DIMENSION, 0, rows);
        open.add(kept::release);
        assertThat(unsaveable.saveAndReadBack(kept)).isSameAs(kept);
        assertThat(kept.tryAcquire()).isTrue();
        kept.release();
    }

    @Test
    void the_index_is_built_from_postgresql_and_answers_like_brute_force() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(5, 200, DIMENSION, 7);
        TestDatabase catalog = catalogWith(rows);

        IndexManager manager = manager(catalog, IndexType.FLATL2, temp.resolve("index.bin"));

        IndexManager.Status status = manager.status();
        assertThat(status.ready()).isTrue();
        assertThat(status.vectors()).isEqualTo(1000);
        assertThat(status.categories()).isEqualTo(5);
        assertThat(status.modelId()).isEqualTo(MODEL);
        assertThat(status.indexType()).isEqualTo("flatl2");
        Random random = new Random(9);
        for (int q = 0; q < 10; q++) {
            float[] query = TestVectors.randomUnit(random, DIMENSION);
            assertThat(searchAll(manager, query, 10)).extracting(Hit::imageId).containsExactlyElementsOf(
                    VectorRows.exactSearch(rows, rows.keySet(), query, 0, 10).stream().map(Hit::imageId).toList());
        }
        try (IndexManager.Lease lease = manager.lease()) {
            assertThat(lease.snapshot().prototypes().entries()).hasSize(5);
        }
    }

    @Test
    void committed_vectors_become_searchable_and_a_late_commit_below_the_watermark_is_not_lost() throws Exception {
        TestDatabase catalog = catalogWith(VectorRows.clustered(3, 50, DIMENSION, 11));
        IndexManager manager = manager(catalog, IndexType.FLATL2, temp.resolve("index.bin"));

        // A slow writer takes its sequence numbers first and commits last.
        List<VectorRow> slow = more(1, 20, 1).get("c0");
        List<VectorRow> fast = more(1, 20, 2).get("c0");
        try (Connection slowWriter = catalog.connect(); Connection fastWriter = catalog.connect()) {
            slowWriter.setAutoCommit(false);
            fastWriter.setAutoCommit(false);
            VectorRows.insert(slowWriter, slow, MODEL);
            VectorRows.insert(fastWriter, fast, MODEL);
            long committed = System.nanoTime();
            fastWriter.commit();
            awaitSearchable(manager, fast.get(fast.size() - 1).imageId());
            LOG.info("A committed vector was searchable after {} ms", (System.nanoTime() - committed) / 1_000_000);
            assertThat(manager.status().pendingHoles()).as("the slow writer's numbers are holes").isGreaterThanOrEqualTo(20);

            slowWriter.commit();
            awaitSearchable(manager, slow.get(0).imageId());
            awaitSearchable(manager, slow.get(slow.size() - 1).imageId());
        }
        assertThat(manager.status().vectors()).isEqualTo(190);
    }

    @Test
    void a_build_that_reads_out_of_sequence_order_keeps_a_late_writers_holes_behind_a_wide_gap() throws Exception {
        // 1..100, then (another model's rows, say) a gap wider than the hole tracker follows.
        TestDatabase catalog = catalogWith(VectorRows.clustered(2, 50, DIMENSION, 31));
        catalog.execute("ALTER TABLE vectors ALTER COLUMN vector_seq RESTART WITH 300000");
        VectorRows.insert(catalog, more(1, 30, 3), MODEL);
        List<VectorRow> slow = more(1, 20, 4).get("c0");
        List<VectorRow> fast = more(1, 20, 5).get("c0");
        try (Connection slowWriter = catalog.connect(); Connection fastWriter = catalog.connect()) {
            slowWriter.setAutoCommit(false);
            fastWriter.setAutoCommit(false);
            VectorRows.insert(slowWriter, slow, MODEL); // 300030..300049, committed only after the build
            VectorRows.insert(fastWriter, fast, MODEL); // 300050..300069
            fastWriter.commit();
            // New versions of the older rows go after the fast writer's in both tables, so the build
            // reads its rows first: had the numbers been taken in the order read, the first would have
            // been a jump wider than any tracked gap, and the slow writer's numbers never holes.
            catalog.execute("UPDATE images SET original_name = original_name WHERE image_id IN "
                    + "(SELECT image_id FROM vectors WHERE vector_seq < 300050)");
            catalog.execute("UPDATE vectors SET created_at = created_at WHERE vector_seq < 300050");
            catalog.execute("ANALYZE images, vectors"); // the plan of a table this size, not of an empty one
            List<Long> order = new ArrayList<>();
            readForBuild(catalog, (category, seq) -> order.add(seq));
            assertThat(order.get(0)).as("a build reads the fast writer's rows first").isGreaterThanOrEqualTo(300_050L);

            IndexManager manager = manager(catalog, IndexType.FLATL2, temp.resolve("index.bin"));
            assertThat(manager.status().vectors()).isEqualTo(150);
            assertThat(manager.status().pendingHoles()).as("the slow writer's numbers are holes").isEqualTo(20);

            slowWriter.commit();
            awaitSearchable(manager, slow.get(0).imageId());
            awaitSearchable(manager, slow.get(slow.size() - 1).imageId());
            assertThat(manager.status().vectors()).isEqualTo(170);
        }
    }

    @Test
    void a_builds_sizes_are_the_maintained_counts_and_a_count_gone_wrong_loses_no_vector() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(3, 120, DIMENSION, 37);
        TestDatabase catalog = catalogWith(rows);
        catalog.execute("INSERT INTO catalog_counts (counter, category_id, model_id, delta) "
                + "SELECT 'vectors', category_id, 'another-model-0123', 5 FROM categories");
        Map<String, Long> read = new HashMap<>();
        assertThat(buildSizes(catalog, read)).as("this model's counts, another's left out")
                .isEqualTo(Map.of("c0", 120L, "c1", 120L, "c2", 120L))
                .isEqualTo(read);

        // A count gone wrong (a statement design.md names, or a hand's edit): c0 counted as IVF-sized.
        catalog.execute("INSERT INTO catalog_counts (counter, category_id, model_id, delta) "
                + "SELECT 'vectors', category_id, '" + MODEL + "', 100000 FROM categories WHERE category_name = 'c0'");
        assertThat(buildSizes(catalog, new HashMap<>())).as("the sizes are the counts, not a count of the rows")
                .containsEntry("c0", 100_120L);
        IndexManager manager = manager(catalog, IndexType.AUTO, temp.resolve("index.bin"));

        assertThat(manager.status().vectors()).isEqualTo(360);
        try (IndexManager.Lease lease = manager.lease()) {
            CategoryIndex c0 = lease.snapshot().category("c0");
            assertThat(c0.spec()).as("the kind of the 120 vectors read").isEqualTo(IndexType.AUTO.spec(120, DIMENSION));
            for (VectorRow row : rows.get("c0")) {
                assertThat(c0.search(row.vector(), 1).id(0, 0)).isEqualTo(row.imageId());
            }
        }
    }

    /** The sizes a build is given before its rows; the rows read per category go into {@code read}. */
    private static Map<String, Long> buildSizes(TestDatabase catalog, Map<String, Long> read) throws Exception {
        return readForBuild(catalog, (category, seq) -> read.merge(category, 1L, Long::sum));
    }

    /** What a build reads: each row's category and sequence number to {@code rows}; returns the sizes given first. */
    private static Map<String, Long> readForBuild(TestDatabase catalog, BiConsumer<String, Long> rows) throws Exception {
        Map<String, Long> sizes = new HashMap<>();
        try (Database database = new Database(catalog.jdbcUrl(), catalog.user(), null, 1)) {
            new VectorStore(database.pool(), MODEL).readForBuild(new VectorStore.BuildReader() {
                @Override
                public void sizes(Map<String, Long> vectorsPerCategory) {
                    sizes.putAll(vectorsPerCategory);
                }

                @Override
                public void row(long imageId, String category, float[] vector, long seq, long createdAtMillis) {
                    rows.accept(category, seq);
                }
            });
        }
        return sizes;
    }

    @Test
    void a_restart_loads_the_saved_index_and_catches_up_with_what_came_while_it_was_down() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(4, 100, DIMENSION, 13);
        TestDatabase catalog = catalogWith(rows);
        Path indexPath = temp.resolve("data/faiss_index.bin");
        IndexManager first = manager(catalog, IndexType.FLATL2, indexPath);
        float[] query = TestVectors.randomUnit(new Random(5), DIMENSION);
        List<Hit> before = searchAll(first, query, 20);
        long firstBuilt = first.status().builtAtMillis();
        first.close();

        Map<String, List<VectorRow>> added = more(2, 30, 3);
        VectorRows.insert(catalog, added, MODEL);
        IndexManager second = manager(catalog, IndexType.FLATL2, indexPath);

        assertThat(second.status().builtAtMillis()).as("loaded, not rebuilt").isEqualTo(firstBuilt);
        assertThat(second.status().vectors()).isEqualTo(460);
        Map<String, List<VectorRow>> everything = new LinkedHashMap<>(rows);
        added.forEach((c, list) -> {
            List<VectorRow> merged = new ArrayList<>(everything.getOrDefault(c, List.of()));
            merged.addAll(list);
            everything.put(c, merged);
        });
        List<Hit> after = searchAll(second, query, 20);
        assertThat(after).extracting(Hit::imageId).containsExactlyElementsOf(
                VectorRows.exactSearch(everything, everything.keySet(), query, 0, 20).stream().map(Hit::imageId).toList());
        if (before.equals(after.subList(0, before.size()))) {
            LOG.info("The new vectors did not change the top 20");
        }
    }

    @Test
    void a_loaded_index_takes_in_what_committed_below_its_watermark_after_the_save() throws Exception {
        TestDatabase catalog = catalogWith(VectorRows.clustered(3, 40, DIMENSION, 17));
        Path indexPath = temp.resolve("data/faiss_index.bin");
        IndexManager first = manager(catalog, IndexType.FLATL2, indexPath);
        List<VectorRow> slow = more(1, 15, 4).get("c0");
        List<VectorRow> fast = more(1, 15, 5).get("c0");
        try (Connection slowWriter = catalog.connect(); Connection fastWriter = catalog.connect()) {
            slowWriter.setAutoCommit(false);
            fastWriter.setAutoCommit(false);
            VectorRows.insert(slowWriter, slow, MODEL); // takes its sequence numbers now, commits last
            VectorRows.insert(fastWriter, fast, MODEL);
            fastWriter.commit();
            awaitSearchable(first, fast.get(fast.size() - 1).imageId());
            first.close(); // saves a watermark above the slow writer's numbers
            slowWriter.commit();
        }

        IndexManager second = manager(catalog, IndexType.FLATL2, indexPath);

        assertThat(second.status().vectors()).isEqualTo(150);
        try (IndexManager.Lease lease = second.lease()) {
            for (VectorRow row : slow) {
                assertThat(lease.snapshot().holds(row.imageId())).as("image %d", row.imageId()).isTrue();
            }
        }
    }

    @Test
    void a_saved_index_of_another_type_or_model_is_rebuilt_not_loaded() throws Exception {
        TestDatabase catalog = catalogWith(VectorRows.clustered(3, 100, DIMENSION, 17));
        Path indexPath = temp.resolve("index.bin");
        IndexManager flat = manager(catalog, IndexType.FLATL2, indexPath);
        long flatBuilt = flat.status().builtAtMillis();
        flat.close();

        IndexManager hnsw = manager(catalog, IndexType.HNSW, indexPath);

        assertThat(hnsw.status().indexType()).isEqualTo("hnsw");
        assertThat(hnsw.status().builtAtMillis()).isGreaterThanOrEqualTo(flatBuilt);
        assertThat(hnsw.status().vectors()).isEqualTo(300);
    }

    @Test
    void a_rebuild_swaps_in_while_searches_go_on_and_none_fails() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(5, 400, DIMENSION, 19);
        TestDatabase catalog = catalogWith(rows);
        IndexManager manager = manager(catalog, IndexType.FLATL2, temp.resolve("index.bin"));
        float[] query = TestVectors.randomUnit(new Random(21), DIMENSION);
        List<Long> expected = searchAll(manager, query, 10).stream().map(Hit::imageId).toList();
        long builtBefore = manager.status().builtAtMillis();

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger searches = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> searchers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            searchers.add(pool.submit(() -> {
                while (!stop.get()) {
                    assertThat(searchAll(manager, query, 10)).extracting(Hit::imageId).containsExactlyElementsOf(expected);
                    searches.incrementAndGet();
                }
                return null;
            }));
        }
        try {
            IndexManager.Status rebuilt = manager.rebuild().get();
            assertThat(rebuilt.builtAtMillis()).isGreaterThanOrEqualTo(builtBefore);
            assertThat(rebuilt.vectors()).isEqualTo(2000);
        } finally {
            stop.set(true);
            for (Future<?> f : searchers) {
                f.get(); // rethrows a failed search
            }
            pool.shutdown();
        }
        assertThat(searches.get()).isPositive();
        assertThat(searchAll(manager, query, 10)).extracting(Hit::imageId).containsExactlyElementsOf(expected);
    }

    @Test
    void approximate_indexes_find_nearly_what_the_exact_search_finds() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(3, 3000, DIMENSION, 23);
        TestDatabase catalog = catalogWith(rows);
        for (IndexType type : List.of(IndexType.IVFFLAT, IndexType.HNSW, IndexType.SQ8)) {
            IndexManager manager = manager(catalog, type, temp.resolve(type.configValue() + ".bin"));
            Random random = new Random(29);
            int found = 0;
            int wanted = 0;
            for (int q = 0; q < 50; q++) {
                List<VectorRow> category = rows.get("c" + (q % 3));
                float[] query = category.get(random.nextInt(category.size())).vector();
                Set<Long> exact = new java.util.HashSet<>(VectorRows.exactSearch(rows, rows.keySet(), query, 0, 10)
                        .stream().map(Hit::imageId).toList());
                for (Hit hit : searchAll(manager, query, 10)) {
                    found += exact.contains(hit.imageId()) ? 1 : 0;
                }
                wanted += 10;
            }
            double recall = (double) found / wanted;
            LOG.info("{} recall@10 against the exact search: {}", type.configValue(), recall);
            assertThat(recall).as("%s recall@10", type.configValue()).isGreaterThanOrEqualTo(0.9);
        }
    }

    @Test
    void changed_prototypes_are_picked_up() throws Exception {
        Map<String, List<VectorRow>> rows = VectorRows.clustered(2, 50, DIMENSION, 31);
        TestDatabase catalog = catalogWith(rows);
        IndexManager manager = manager(catalog, IndexType.FLATL2, temp.resolve("index.bin"));
        float[] newMean = TestVectors.randomUnit(new Random(37), DIMENSION);

        catalog.writePrototypes(Map.of("c0", newMean), Map.of("c0", 51), MODEL);

        Prototypes.Entry entry = Waiting.forValue(() -> {
            try (IndexManager.Lease lease = manager.lease()) {
                Prototypes.Entry c0 = lease.snapshot().prototypes().get("c0");
                return c0.imageCount() == 51 ? c0 : null;
            }
        }, "the new prototype", DEADLINE);
        assertThat(entry.unitMean()).containsExactly(newMean, within(1e-6f));
    }
}
