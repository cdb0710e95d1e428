package io.imsrc.query.testing;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.query.QueryServerOptions;
import io.imsrc.testing.TestDatabase;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the server's integration tests search: real CIFAR-10 training images, embedded by the
 * reference model and stored in a fresh catalog as the ingest job stores them. Close releases the
 * embedder; the database stays with the JVM's shared PostgreSQL.
 */
public final class EmbeddedCatalog implements AutoCloseable {

    private final ConfiguredModel model;
    private final Embedder embedder;
    private final TestDatabase database;
    private final List<CifarImages.Image> images;

    private EmbeddedCatalog(ConfiguredModel model, Embedder embedder, TestDatabase database,
            List<CifarImages.Image> images) {
        this.model = model;
        this.embedder = embedder;
        this.database = database;
        this.images = images;
    }

    /** The first {@code perClass} training images of each class, in a database named after {@code name}. */
    public static EmbeddedCatalog create(String name, int perClass, Path temp) throws Exception {
        ConfiguredModel model = TestServers.referenceModel(temp.resolve("models"));
        Embedder embedder = Embedder.load(model.description(), EmbedderOptions.builder().device(Device.CPU).build());
        try {
            List<CifarImages.Image> images = CifarImages.load("train", 0, perClass, embedder);
            TestDatabase database = TestDatabase.create(name, SchemaMigrations::migrate);
            CifarImages.store(database, images, model.modelId().value());
            return new EmbeddedCatalog(model, embedder, database, images);
        } catch (Exception | Error e) {
            embedder.close();
            throw e;
        }
    }

    /** What the server is given: this catalog, the shared Kafka broker, the reference model. */
    public QueryServerOptions.Services services(String flinkDashboardUrl) {
        return new QueryServerOptions.Services(new QueryServerOptions.PostgresLogin(database.jdbcUrl(),
                database.user(), null), SharedKafka.get().bootstrapServers(), model, flinkDashboardUrl);
    }

    /**
     * Server options over this catalog and the shared Kafka broker, uploads published to {@code
     * topic}, {@code settings} (variables, as in the README's configuration reference) over the
     * tests' defaults.
     */
    public QueryServerOptions serverOptions(Path indexPath, String topic, Map<String, String> settings) {
        Map<String, String> values = new HashMap<>(settings);
        values.put("KAFKA_UPLOADS_TOPIC", topic);
        return TestServers.options(services(null), indexPath, values);
    }

    public ConfiguredModel model() {
        return model;
    }

    public Embedder embedder() {
        return embedder;
    }

    public TestDatabase database() {
        return database;
    }

    /** The stored images, class by class. */
    public List<CifarImages.Image> images() {
        return images;
    }

    @Override
    public void close() {
        embedder.close();
    }
}
