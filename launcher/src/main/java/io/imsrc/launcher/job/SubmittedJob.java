package io.imsrc.launcher.job;

import io.imsrc.ingest.IngestTopology;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest job once it runs: submitted by this process, or found running on the cluster and
 * followed.
 *
 * @param client the job this process submitted, {@code null} when it follows one already on the
 *     cluster
 * @param jobId the job's id
 * @param name the job's name
 * @param dashboardUrl Flink's dashboard and REST API
 * @param cluster whether the job runs on a cluster this process does not own
 * @param summary what its bulk sources will read, {@code null} for a job followed
 * @param sources the bulk sources it reads
 */
public record SubmittedJob(JobClient client, String jobId, String name, String dashboardUrl, boolean cluster,
        IngestTopology.Summary summary, List<BulkSourceSpec> sources) {

    private static final Logger LOG = LoggerFactory.getLogger(SubmittedJob.class);

    /** Flink's REST API where the job runs. */
    public FlinkRest rest() {
        return new FlinkRest(dashboardUrl);
    }

    /** The bulk sources read to an end (not watched), with their planned images; none for a job followed. */
    public List<SourceCompletion.Source> bulkSources() {
        List<SourceCompletion.Source> bulk = new ArrayList<>();
        for (int i = 0; summary != null && i < sources.size(); i++) {
            if (!sources.get(i).watch()) {
                bulk.add(new SourceCompletion.Source(sources.get(i), summary.plannedPerSource().get(i)));
            }
        }
        return bulk;
    }

    /** Images the bounded sources will read; 0 for a job followed. */
    public long plannedImages() {
        return summary == null ? 0 : summary.plannedImages();
    }

    /**
     * Stops a job this process owns with a savepoint in {@code directory} (so every operator
     * flushes: the last micro-batch, the prototypes, the sinks), falling back to a cancel, and waits
     * up to a minute for it to end. A job on a cluster, or one followed, is left running.
     */
    public void stopOwned(String directory) {
        if (cluster || client == null) {
            return;
        }
        try {
            String savepoint;
            try {
                savepoint = stopWithSavepoint(directory);
            } catch (ExecutionException e) {
                // A savepoint fails when it meets a task that is finishing (a bulk source at its end): once more.
                LOG.info("The savepoint failed ({}); trying once more", e.getCause() == null ? e : e.getCause());
                savepoint = stopWithSavepoint(directory);
            }
            LOG.info("Stopped the ingest job with a savepoint at {}", savepoint);
        } catch (Exception e) {
            LOG.warn("Could not stop the job with a savepoint ({}); cancelling it", e.toString());
            try {
                client.cancel().get(60, TimeUnit.SECONDS);
            } catch (Exception again) {
                LOG.warn("The job did not stop cleanly: {}", again.toString());
            }
        } finally {
            try {
                client.getJobExecutionResult().handle((result, failure) -> null).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("The job did not end within a minute: {}", e.toString());
            }
        }
    }

    private String stopWithSavepoint(String directory) throws Exception {
        return client.stopWithSavepoint(false, directory, SavepointFormatType.CANONICAL).get(60, TimeUnit.SECONDS);
    }
}
