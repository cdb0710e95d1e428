package io.imsrc.common.embed;

import ai.djl.Application;
import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.RemoteRepository;
import ai.djl.util.Utils;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Models from DJL's model zoo, named {@code djl://GROUP/ARTIFACT[/VERSION]} (for example {@code
 * djl://ai.djl.pytorch/resnet18_embedding}): DJL's repository code finds the artifact in the
 * repository's metadata, downloads its files, checks each against the SHA-1 the metadata gives and
 * unpacks them, into {@code DATA_DIR/models/djl/} rather than DJL's cache in the home folder. A
 * downloaded artifact is used from there without the network from then on.
 *
 * <p>The repository is DJL's ({@value #DEFAULT_REPOSITORY}) unless {@code DJL_REPO_URL} (DJL's
 * own variable, environment or system property) names another: a mirror, or a server on
 * 127.0.0.1 in the tests. It is read on every call, not once per process as DJL's model zoo does.
 */
public final class ZooModels {

    /** The prefix of a zoo location. */
    public static final String SCHEME = "djl://";

    static final String DEFAULT_REPOSITORY = "https://mlrepo.djl.ai/";

    private ZooModels() {}

    public static boolean isZoo(String location) {
        return location.startsWith(SCHEME);
    }

    /** The repository zoo models are downloaded from. */
    public static String repositoryUrl() {
        String url = Utils.getEnvOrSystemProperty("DJL_REPO_URL", DEFAULT_REPOSITORY);
        return url.endsWith("/") ? url : url + "/";
    }

    /**
     * The local TorchScript file of a zoo model, downloading and checking it first when it is not
     * in {@code cacheDir}/djl yet.
     *
     * @throws IOException naming the metadata URL tried when the download fails or the artifact
     *     holds no TorchScript file
     */
    public static Path resolve(String location, Path cacheDir) throws IOException {
        String[] parts = location.substring(SCHEME.length()).split("/");
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new IllegalArgumentException("a zoo model is " + SCHEME + "GROUP/ARTIFACT[/VERSION], got " + location);
        }
        Path folder = cacheDir.resolve("djl");
        RemoteRepository repository = new CachedRepository(URI.create(repositoryUrl()), folder);
        MRL mrl = parts.length == 3
                ? repository.model(Application.CV.IMAGE_CLASSIFICATION, parts[0], parts[1], parts[2])
                : repository.model(Application.CV.IMAGE_CLASSIFICATION, parts[0], parts[1]);
        String path = mrl.toURI().getPath();
        URI metadata = URI.create(repositoryUrl()).resolve((path.startsWith("/") ? path.substring(1) : path) + "/metadata.json");
        Artifact artifact;
        try {
            artifact = repository.resolve(mrl, Map.of());
            if (artifact == null) {
                throw new NoSuchFileException(metadata.toString(), null, "no such artifact in the repository");
            }
            repository.prepare(artifact);
        } catch (IOException | RuntimeException e) {
            throw new IOException("tried " + metadata + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
        }
        Path dir = repository.getResourceDirectory(artifact);
        try (Stream<Path> files = Files.walk(dir)) {
            Optional<Path> model = files.filter(f -> f.getFileName().toString().endsWith(".pt")).sorted().findFirst();
            return model.orElseThrow(() -> new NoSuchFileException(dir.toString(), null,
                    "the artifact " + location + " holds no TorchScript (.pt) file"));
        }
    }

    /** DJL's remote repository with its cache in a folder of ours. */
    private static final class CachedRepository extends RemoteRepository {
        private final Path cache;

        CachedRepository(URI uri, Path cache) {
            super("imsrc-zoo", uri);
            this.cache = cache;
        }

        @Override
        public Path getCacheDirectory() throws IOException {
            Files.createDirectories(cache);
            return cache;
        }
    }
}
