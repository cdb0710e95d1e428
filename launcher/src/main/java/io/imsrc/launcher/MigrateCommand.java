package io.imsrc.launcher;

import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.common.db.SchemaMigrations;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code imsrc migrate} (also {@code setup-db}): creates or upgrades the schema, then stops. */
@Command(name = "migrate", aliases = "setup-db", mixinStandardHelpOptions = true,
        description = {"Creates the imsrc schema in PostgreSQL, or brings it up to this build's version, and stops.",
            "PostgreSQL is the embedded one in DATA_DIR unless DB_HOST names another. Every other command migrates "
                    + "on start as well; this one is for setting up a database ahead of time."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the schema is current", "1:the migration failed", "2:bad settings"})
public final class MigrateCommand implements Callable<Integer> {

    private final Settings settings;
    private final PrintStream out;

    public MigrateCommand() {
        this(Settings.fromEnvironment(), System.out);
    }

    MigrateCommand(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    @Override
    public Integer call() {
        ImsrcConfig config;
        try {
            config = ImsrcConfig.from(settings);
        } catch (ConfigException e) {
            System.err.println("imsrc migrate: " + e.getMessage());
            return 2;
        }
        try (EmbeddedServices services = EmbeddedServices.start(config, false)) {
            out.println("imsrc migrate: the schema of " + services.database().jdbcUrl() + " is at version "
                    + SchemaMigrations.latestVersion());
            return 0;
        } catch (ServiceStartException e) {
            System.err.println("imsrc migrate: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            System.err.println("imsrc migrate: " + IngestRun.rootMessage(e));
            return 1;
        }
    }
}
