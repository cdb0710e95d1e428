package io.imsrc.launcher.job;

import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.ingest.IngestJob;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Finds the job jar a cluster runs (the ingest-job module's {@code *-flink-job.jar}: the job with its
 * connectors, without Flink and DJL, which the cluster has in lib/): FLINK_JOB_JAR, else the one the
 * build left beside the ingest-job classes this process runs (its target/ folder, or the installed
 * jar's folder in the local Maven repository).
 */
public final class JobJar {

    private JobJar() {}

    public static Path locate(ImsrcConfig config) throws IOException {
        if (config.flink().jobJar() != null) {
            Path jar = config.flink().jobJar();
            if (!Files.isRegularFile(jar)) {
                throw new NoSuchFileException(jar.toAbsolutePath().toString(), null,
                        "FLINK_JOB_JAR names no file (build it with mvn -pl ingest-job -am package)");
            }
            return jar;
        }
        Path classes;
        try {
            classes = Path.of(IngestJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IOException("cannot tell where the ingest job's classes come from; set FLINK_JOB_JAR", e);
        }
        // target/classes -> target/; ~/.m2/.../imsrc-ingest-job-0.1.0.jar -> its folder
        Path folder = classes.getParent();
        if (folder != null) {
            try (DirectoryStream<Path> jars = Files.newDirectoryStream(folder, "*-flink-job.jar")) {
                for (Path jar : jars) {
                    return jar;
                }
            }
        }
        throw new NoSuchFileException(String.valueOf(folder), null, "no *-flink-job.jar for a Flink cluster there; "
                + "build it (mvn -pl ingest-job -am package) or set FLINK_JOB_JAR to its path");
    }
}
