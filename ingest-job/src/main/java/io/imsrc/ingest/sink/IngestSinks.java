package io.imsrc.ingest.sink;

import io.imsrc.ingest.DatabaseOptions;
import io.imsrc.ingest.record.DeadLetter;
import io.imsrc.ingest.record.EmbeddedBatch;
import io.imsrc.ingest.record.ImageMeta;
import io.imsrc.ingest.record.PrototypeRow;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;

/**
 * The job's four PostgreSQL sinks, all Flink JDBC connector sinks (at least once) with idempotent
 * statements, so that the replay after a restore writes nothing twice.
 *
 * <p>Execution options: the connector defaults to batches of 5,000 records and no flush interval,
 * so a lone upload would wait for the next checkpoint; every sink here flushes on an interval. An
 * image batch is already one forward pass of rows and goes out at once (one statement, one
 * commit). Three retries cover a dropped connection and the rare race on a new category name.
 */
public final class IngestSinks {

    private static final int MAX_RETRIES = 3;

    private IngestSinks() {}

    /** Images, vectors and upload states, one statement per micro-batch. */
    public static JdbcSink<EmbeddedBatch> images(DatabaseOptions database, String modelId) {
        return JdbcSink.<EmbeddedBatch>builder()
                .withQueryStatement(ImageBatchStatement.SQL, new ImageBatchStatement(modelId))
                .withExecutionOptions(JdbcExecutionOptions.builder()
                        .withBatchSize(1)
                        .withBatchIntervalMs(0)
                        .withMaxRetries(MAX_RETRIES)
                        .build())
                .buildAtLeastOnce(database.connectionOptions());
    }

    /** Category prototypes, as the prototype operator flushes them. */
    public static JdbcSink<PrototypeRow> prototypes(DatabaseOptions database, String modelId, long flushIntervalMs) {
        return JdbcSink.<PrototypeRow>builder()
                .withQueryStatement(PrototypeStatement.SQL, new PrototypeStatement(modelId))
                .withExecutionOptions(smallRecords(flushIntervalMs))
                .buildAtLeastOnce(database.connectionOptions());
    }

    /** Dead letters, and the rejected state of refused uploads. */
    public static JdbcSink<DeadLetter> deadLetters(DatabaseOptions database, long flushIntervalMs) {
        return JdbcSink.<DeadLetter>builder()
                .withQueryStatement(DeadLetterStatement.SQL, new DeadLetterStatement())
                .withExecutionOptions(smallRecords(flushIntervalMs))
                .buildAtLeastOnce(database.connectionOptions());
    }

    /** The indexed state of uploads whose image was stored already. */
    public static JdbcSink<ImageMeta> indexedUploads(DatabaseOptions database, long flushIntervalMs) {
        return JdbcSink.<ImageMeta>builder()
                .withQueryStatement(IndexedUploadStatement.SQL, new IndexedUploadStatement())
                .withExecutionOptions(smallRecords(flushIntervalMs))
                .buildAtLeastOnce(database.connectionOptions());
    }

    private static JdbcExecutionOptions smallRecords(long flushIntervalMs) {
        return JdbcExecutionOptions.builder()
                .withBatchSize(500)
                .withBatchIntervalMs(flushIntervalMs)
                .withMaxRetries(MAX_RETRIES)
                .build();
    }
}
