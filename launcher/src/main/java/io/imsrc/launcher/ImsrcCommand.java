package io.imsrc.launcher;

import io.imsrc.common.config.Settings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * An imsrc command: picocli parses its options into the subclass's fields, then {@link #run} does
 * its work in a {@link CommandContext} over its settings: the environment and .env as users run
 * it, read when it runs; those of {@link #withSettings} in tests.
 */
abstract class ImsrcCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    private volatile Settings settings;

    /** Runs on {@code given} instead of the environment's settings; returns this command. */
    @SuppressWarnings("unchecked")
    final <C extends ImsrcCommand> C withSettings(Settings given) {
        this.settings = given;
        return (C) this;
    }

    @Override
    public final Integer call() {
        Settings given = settings;
        return CommandContext.run(spec, given != null ? given : Settings.fromEnvironment(), this::run);
    }

    /** The command's work; a {@link CommandContext.Failure} ends it with its line and exit code. */
    abstract int run(CommandContext context) throws Exception;
}
