package io.imsrc.query.testing;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.embed.ModelId;
import io.imsrc.query.QueryServerOptions;
import io.imsrc.testing.SharedFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The query server as the integration tests run it: the reference ResNet-20 (its TorchScript file
 * from the shared models), on the CPU, exact indexes, a fast refresh, the loopback address and a
 * free port. Each test adds its services and the settings it is about, as the variables a user
 * would set, so they go through the same reader and checks.
 */
public final class TestServers {

    private TestServers() {}

    /** The reference ResNet-20 as a configured model, its files cached under {@code cacheDir}. */
    public static ConfiguredModel referenceModel(Path cacheDir) throws IOException {
        Path modelFile = SharedFiles.model("resnet20-cifar10.pt");
        ModelDescription description = ModelDescription.RESNET20_CIFAR10.withModel(modelFile.toString());
        return new ConfiguredModel(description, ModelId.forFile(description.name(), modelFile), cacheDir);
    }

    /** Options with the tests' defaults for {@code services}, the index saved at {@code indexPath}. */
    public static QueryServerOptions options(QueryServerOptions.Services services, Path indexPath) {
        return options(services, indexPath, Map.of());
    }

    /**
     * Options with the tests' defaults, {@code settings} (variable name to value, as in the README's
     * configuration reference) over them.
     */
    public static QueryServerOptions options(QueryServerOptions.Services services, Path indexPath,
            Map<String, String> settings) {
        Map<String, String> values = new HashMap<>();
        values.put("DEVICE", "cpu");
        values.put("FAISS_INDEX_TYPE", "flatl2");
        values.put("FAISS_INDEX_PATH", indexPath.toString());
        values.put("INDEX_REFRESH_MS", "200");
        values.put("API_HOST", "127.0.0.1");
        values.put("API_PORT", "0");
        values.putAll(settings);
        return QueryServerOptions.from(ImsrcConfig.from(Settings.of(values)), services);
    }

    /** PostgreSQL at {@code jdbcUrl} without a password, and {@code model}; no Kafka (uploads answer 503). */
    public static QueryServerOptions.Services services(String jdbcUrl, String user, ConfiguredModel model) {
        return services(jdbcUrl, user, model, null);
    }

    /** The same with the Kafka cluster at {@code kafkaBootstrapServers}. */
    public static QueryServerOptions.Services services(String jdbcUrl, String user, ConfiguredModel model,
            String kafkaBootstrapServers) {
        return new QueryServerOptions.Services(new QueryServerOptions.PostgresLogin(jdbcUrl, user, null),
                kafkaBootstrapServers, model, null);
    }

    /**
     * The files under {@code spoolDir}, the REQUEST_SPOOL_DIR of running servers: none once every
     * request has been answered. Fails when no server spools there, so that an empty answer means
     * something.
     */
    public static List<Path> spooledFiles(Path spoolDir) throws IOException {
        try (Stream<Path> servers = Files.list(spoolDir)) {
            if (servers.noneMatch(dir -> Files.isDirectory(dir) && dir.getFileName().toString().startsWith("imsrc-requests"))) {
                throw new AssertionError("no server spools to " + spoolDir);
            }
        }
        try (Stream<Path> all = Files.walk(spoolDir)) {
            return all.filter(Files::isRegularFile).toList();
        }
    }

    /** {@code options} with other bounds than the server's own. */
    public static QueryServerOptions withLimits(QueryServerOptions options, QueryServerOptions.Limits limits) {
        return new QueryServerOptions(options.services(), options.api(), options.search(), options.faiss(),
                options.indexRefresh(), options.images(), options.dbTimeouts(), options.uploadsTopic(),
                options.uploads(), limits);
    }
}
