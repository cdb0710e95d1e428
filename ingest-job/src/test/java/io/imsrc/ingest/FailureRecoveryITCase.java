package io.imsrc.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.imsrc.common.config.ImsrcConfig.FlinkConfig.StateBackend;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.ingest.testing.IngestFixtures;
import io.imsrc.ingest.testing.MiniClusters;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestDatabase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class FailureRecoveryITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @TempDir Path temp;

    /**
     * Passes images on and throws once, at the first image after {@value #FAIL_AFTER} images have
     * passed and a checkpoint has completed, so the restart resumes from a real checkpoint in the
     * middle of the ingest. Static flags, because the restarted task is a new instance in the same
     * JVM.
     */
    static final class FailOnceAfterCheckpoint implements MapFunction<RawImage, RawImage>, CheckpointListener,
            CheckpointedFunction {
        static final long FAIL_AFTER = 300;
        static final AtomicBoolean FAILED = new AtomicBoolean();
        static final AtomicBoolean CHECKPOINT_COMPLETED = new AtomicBoolean();
        static final AtomicBoolean RESTORED_AFTER_FAILURE = new AtomicBoolean();
        static final AtomicLong SEEN = new AtomicLong();

        static void reset() {
            FAILED.set(false);
            CHECKPOINT_COMPLETED.set(false);
            RESTORED_AFTER_FAILURE.set(false);
            SEEN.set(0);
        }

        @Override
        public RawImage map(RawImage image) {
            if (SEEN.incrementAndGet() >= FAIL_AFTER && CHECKPOINT_COMPLETED.get() && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure after " + SEEN.get() + " images");
            }
            return image;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            CHECKPOINT_COMPLETED.set(true);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {}

        @Override
        public void initializeState(FunctionInitializationContext context) {
            if (FAILED.get() && context.isRestored()) {
                RESTORED_AFTER_FAILURE.set(true);
            }
        }
    }

    /** The same ingest without a failure, the reference every backend's run must match; run once. */
    private static TestDatabase clean;

    @BeforeAll
    static void ingestWithoutFailure(@TempDir Path cleanTemp) throws Exception {
        clean = TestDatabase.create("clean", SchemaMigrations::migrate);
        IngestFixtures.runToEnd(options(clean, cleanTemp, null));
    }

    private static IngestJobOptions options(TestDatabase db, Path temp, StateBackend backend) throws Exception {
        return IngestFixtures.options(db, temp)
                .checkpointIntervalMs(100)
                .stateBackend(backend)
                .bulkSource(BulkSourceSpec.parse(SharedFiles.cifar10JpgArchive() + "#cifar-10-jpg/test").withLimit(1000))
                .build();
    }

    /**
     * With either state backend, as {@link IngestJob#configure} sets it: RocksDB with incremental
     * checkpoints restores its dedup and prototype state from files shared between checkpoints.
     */
    @ParameterizedTest
    @EnumSource(StateBackend.class)
    void a_failure_mid_ingest_restarts_from_the_checkpoint_and_ends_with_the_same_data(
            StateBackend backend, @InjectMiniCluster MiniCluster flink) throws Exception {
        FailOnceAfterCheckpoint.reset();
        TestDatabase failed = TestDatabase.create("failed_" + backend.configValue(), SchemaMigrations::migrate);
        IngestJobOptions options = options(failed, temp, backend);
        StreamExecutionEnvironment env = IngestFixtures.environment(options);
        IngestTopology.attach(env, options, raw -> raw
                .map(new FailOnceAfterCheckpoint())
                .returns(TypeInformation.of(RawImage.class))
                .name("fail once"));
        JobClient job = env.executeAsync(options.jobName());
        // The checkpoints' statistics while the job runs (a finished job's graph keeps none).
        List<AbstractCheckpointStats> completed = new ArrayList<>();
        AccessExecutionGraph graph = flink.getExecutionGraph(job.getJobID()).get();
        while (!graph.getState().isGloballyTerminalState()) {
            graph.getCheckpointStatsSnapshot().getHistory().getCheckpoints().stream()
                    .filter(checkpoint -> checkpoint.getStatus() == CheckpointStatsStatus.COMPLETED)
                    .forEach(completed::add);
            Thread.sleep(50);
            graph = flink.getExecutionGraph(job.getJobID()).get();
        }
        job.getJobExecutionResult().get();

        String expectedBackend = backend == StateBackend.ROCKSDB ? "EmbeddedRocksDBStateBackend" : "HashMapStateBackend";
        assertThat(graph.getStateBackendName()).as("the job's state backend").hasValue(expectedBackend);
        assertThat(completed).as("checkpoints seen completing").isNotEmpty();
        if (backend == StateBackend.ROCKSDB) {
            // Incremental: a later checkpoint uploads less than the state it stands for, since it
            // refers to RocksDB files an earlier checkpoint uploaded already.
            assertThat(completed).anySatisfy(checkpoint ->
                    assertThat(checkpoint.getCheckpointedSize()).isLessThan(checkpoint.getStateSize()));
        }
        assertThat(FailOnceAfterCheckpoint.FAILED).as("the failure was injected").isTrue();
        assertThat(FailOnceAfterCheckpoint.RESTORED_AFTER_FAILURE).as("the restart restored a checkpoint").isTrue();
        assertThat(FailOnceAfterCheckpoint.SEEN.get()).as("images were read again after the restart")
                .isGreaterThan(1000);

        String images = "SELECT i.image_id, c.category_name, i.content_hash, i.original_name, i.category_assignment "
                + "FROM images i JOIN categories c USING (category_id) ORDER BY i.image_id";
        List<Map<String, Object>> expected = clean.rows(images);
        assertThat(expected).hasSize(1000);
        assertThat(failed.rows(images)).usingRecursiveComparison().isEqualTo(expected);

        String vectors = "SELECT image_id, model_id, embedding FROM vectors ORDER BY image_id";
        List<Map<String, Object>> expectedVectors = clean.rows(vectors);
        List<Map<String, Object>> actualVectors = failed.rows(vectors);
        assertThat(actualVectors).hasSameSizeAs(expectedVectors);
        for (int i = 0; i < expectedVectors.size(); i++) {
            assertThat(actualVectors.get(i).get("image_id")).isEqualTo(expectedVectors.get(i).get("image_id"));
            // A batch of another size after the restart may round the last bits differently.
            assertThat(floats(actualVectors.get(i).get("embedding")))
                    .containsExactly(floats(expectedVectors.get(i).get("embedding")), within(1e-5f));
        }

        var expectedPrototypes = clean.prototypes(IngestFixtures.resnet20ModelId());
        var actualPrototypes = failed.prototypes(IngestFixtures.resnet20ModelId());
        assertThat(actualPrototypes.keySet()).isEqualTo(expectedPrototypes.keySet());
        expectedPrototypes.forEach((category, prototype) -> {
            assertThat(actualPrototypes.get(category).count()).isEqualTo(prototype.count());
            assertThat(actualPrototypes.get(category).mean()).containsExactly(prototype.mean(), within(1e-5f));
        });
        IngestFixtures.assertPrototypesAreExactMeans(failed);
        assertThat(failed.count("SELECT count(*) FROM dead_letters")).isZero();
    }

    private static float[] floats(Object array) {
        Float[] boxed = (Float[]) array;
        float[] out = new float[boxed.length];
        for (int i = 0; i < boxed.length; i++) {
            out[i] = boxed[i];
        }
        return out;
    }
}
