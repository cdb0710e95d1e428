package io.imsrc.launcher;

import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.embed.Embedder;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.launcher.services.EmbeddedServices;
import io.imsrc.query.index.IndexManager;
import io.imsrc.query.store.Database;
import io.imsrc.query.store.VectorStore;
import java.time.Duration;
import picocli.CommandLine.Command;

/**
 * {@code imsrc reindex} (also {@code build-index}): builds the FAISS index from the vectors in
 * PostgreSQL and saves it to FAISS_INDEX_PATH, where the query server loads it on its next start.
 * A running server rebuilds with POST /admin/reindex instead.
 */
@Command(name = "reindex", aliases = "build-index", mixinStandardHelpOptions = true,
        description = {"Builds the FAISS index (FAISS_INDEX_TYPE) from the model's vectors in PostgreSQL and saves it "
                + "to FAISS_INDEX_PATH for the query server's next start.",
            "Run it while no query server uses the same DATA_DIR; a running server rebuilds with POST /admin/reindex."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:built and saved", "1:the build failed", "2:bad settings, or the model cannot be had"})
public final class ReindexCommand extends ImsrcCommand {

    @Override
    int run(CommandContext context) throws Exception {
        ImsrcConfig config = context.config();
        ConfiguredModel model = context.model(config);
        long start = System.nanoTime();
        try (EmbeddedServices services = context.services(config, false);
                Database database = new Database(services.database().jdbcUrl(), services.database().user(),
                        services.database().password(), 2, config.database().timeouts())) {
            int dimension;
            try (Embedder embedder = Embedder.load(model.description(), EmbedderOptions.builder()
                    .device(config.model().device()).modelCacheDir(model.cacheDir()).build())) {
                dimension = embedder.dimension();
            }
            VectorStore store = new VectorStore(database.pool(), model.modelId().value());
            IndexManager.Status status;
            try (IndexManager index = new IndexManager(database, store, IndexManager.Settings.of(
                    config.faiss().indexType(), config.faiss().indexPath(), dimension,
                    Duration.ofMillis(config.indexRefresh().intervalMs()))).start()) {
                index.awaitReady(Duration.ofHours(1));
                status = index.rebuild().get();
            } // closing saves it
            context.console().say("%s index of %,d vectors in %d categories (model %s) saved to %s in %.1f s",
                    status.indexType(), status.vectors(), status.categories(), status.modelId(),
                    config.faiss().indexPath().toAbsolutePath(), (System.nanoTime() - start) / 1e9);
            return 0;
        }
    }
}
