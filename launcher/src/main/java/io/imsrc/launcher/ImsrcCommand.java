package io.imsrc.launcher;

import io.imsrc.common.config.Settings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * An imsrc command: picocli parses its options into the subclass's fields, then {@link #run} does
 * its work in a {@link CommandContext} over the settings it was given (the environment and .env as
 * users run it; a map in tests).
 */
abstract class ImsrcCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    private final Settings settings;

    ImsrcCommand(Settings settings) {
        this.settings = settings;
    }

    @Override
    public final Integer call() {
        return CommandContext.run(spec, settings, this::run);
    }

    /** The command's work; a {@link CommandContext.Failure} ends it with its line and exit code. */
    abstract int run(CommandContext context) throws Exception;
}
