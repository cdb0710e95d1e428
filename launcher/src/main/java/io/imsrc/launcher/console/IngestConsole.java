package io.imsrc.launcher.console;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.ingest.source.bulk.BulkSourceSpec;
import io.imsrc.launcher.job.SourceCompletion;
import io.imsrc.launcher.job.SourceLedger;
import io.imsrc.launcher.job.SubmittedJob;
import io.imsrc.launcher.services.EmbeddedServices;
import io.imsrc.query.QueryServer;
import java.util.Locale;
import java.util.Map;

/**
 * The lines {@code imsrc start} and {@code imsrc ingest} print around the job: which sources are
 * left out, where everything runs, what the job will read, which sources are recorded, and how it
 * ended. The progress lines in between are {@link IngestProgress}'s.
 */
public final class IngestConsole {

    private final Console console;

    public IngestConsole(Console console) {
        this.console = console;
    }

    public Console console() {
        return console;
    }

    public void alreadyIngested(BulkSourceSpec spec, SourceLedger.Entry done) {
        console.say("%s was ingested on %s (%,d images); not reading it again "
                + "(imsrc ingest --source reads a source again, storing only what is new)",
                spec, done.completedAt().toLocalDate(), done.imagesRead());
    }

    public void nothingToIngest() {
        console.say("nothing to ingest");
    }

    public void following(SubmittedJob job) {
        console.say("the job '" + job.name() + "' already runs on " + job.dashboardUrl() + " (" + job.jobId()
                + "); following it instead of submitting another");
    }

    /** Sources {@code start} leaves out because they cannot be read, and what it runs on instead. */
    public void startingWithout(Map<BulkSourceSpec, String> unreadable, long stored) {
        unreadable.forEach((spec, why) -> console.warning("cannot read the source " + spec + ": " + why));
        console.warning(String.format(Locale.ROOT, "starting without %s: searches answer from the %,d images "
                + "stored, uploads are ingested; once the source can be read, start again (or give --source)",
                unreadable.size() == 1 ? "it" : "them", stored));
    }

    /** Where the job, the server and the services are, and what the job will read. */
    public void running(ImsrcConfig config, SubmittedJob job, QueryServer server, EmbeddedServices services) {
        console.say("job " + job.jobId() + " running" + (job.cluster() ? " on the cluster" : ""));
        if (server != null) {
            String api = "http://localhost:" + server.port();
            console.detail("  Web page         " + api + "/app/");
            console.detail("  API docs         " + api + "/docs  (status " + api + "/status)");
        }
        console.detail("  Flink dashboard  " + job.dashboardUrl());
        console.services(services, config.kafka().uploadsTopic());
        console.detail("  data             " + config.dataDir().toAbsolutePath().normalize());
        if (job.summary() != null) {
            console.detail(job.summary().unbounded() ? "  runs until stopped (Ctrl-C)"
                    : "  ends when " + String.format(Locale.ROOT, "%,d", job.plannedImages()) + " images are read");
        }
    }

    public void recorded(SourceCompletion.Source source) {
        console.say("%s read to the end (%,d images); a next start will not read it again", source.spec(),
                source.images());
    }

    /** A local job's end: read to its end, or stopped (Ctrl-C). */
    public void ended(boolean stopped, long stored) {
        console.say("%s, %,d new images stored", stopped ? "stopped" : "done", stored);
    }

    public void jobFailed(String why) {
        console.error("the job failed: " + why);
    }

    public void leftRunningOnCluster() {
        console.say("stopped; the job keeps running on the cluster");
    }

    public void noBulkSourceToFollow() {
        console.say("no bulk source to follow; the job keeps running on the cluster");
    }

    /** The end of following a cluster's job: its bulk sources are stored, or the user stopped. */
    public void followed(long stored, boolean stopped) {
        console.say("%,d new images stored%s", stored, stopped ? "" : "; the job keeps running on the cluster for uploads");
    }
}
