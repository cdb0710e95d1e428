package io.imsrc.launcher;

import io.imsrc.common.db.SchemaMigrations;
import io.imsrc.launcher.services.EmbeddedServices;
import picocli.CommandLine.Command;

/** {@code imsrc migrate} (also {@code setup-db}): creates or upgrades the schema, then stops. */
@Command(name = "migrate", aliases = "setup-db", mixinStandardHelpOptions = true,
        description = {"Creates the imsrc schema in PostgreSQL, or brings it up to this build's version, and stops.",
            "PostgreSQL is the embedded one in DATA_DIR unless DB_HOST names another. Every other command migrates "
                    + "on start as well; this one is for setting up a database ahead of time."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the schema is current", "1:the migration failed", "2:bad settings"})
public final class MigrateCommand extends ImsrcCommand {

    @Override
    int run(CommandContext context) throws Exception {
        try (EmbeddedServices services = context.services(context.config(), false)) {
            context.console().say("the schema of " + services.database().jdbcUrl() + " is at version "
                    + SchemaMigrations.latestVersion());
            return 0;
        }
    }
}
