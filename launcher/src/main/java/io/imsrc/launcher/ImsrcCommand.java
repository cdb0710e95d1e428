package io.imsrc.launcher;

import io.imsrc.common.config.Settings;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
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

    private volatile Supplier<Settings> settings = Settings::fromEnvironment;

    /** Runs on {@code given} instead of the environment's settings; returns this command. */
    final <C extends ImsrcCommand> C withSettings(Settings given) {
        return withSettings(() -> given);
    }

    /** Runs on what {@code read} gives when the command runs (a .env read then); returns this command. */
    @SuppressWarnings("unchecked")
    final <C extends ImsrcCommand> C withSettings(Supplier<Settings> read) {
        this.settings = read;
        return (C) this;
    }

    @Override
    public final Integer call() {
        return CommandContext.run(spec, settings, this::run);
    }

    /** The command's work; a {@link CommandContext.Failure} ends it with its line and exit code. */
    abstract int run(CommandContext context) throws Exception;
}
