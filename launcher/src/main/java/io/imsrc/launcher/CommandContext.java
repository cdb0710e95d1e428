package io.imsrc.launcher;

import io.imsrc.common.config.ConfigException;
import io.imsrc.common.config.ConfiguredModel;
import io.imsrc.common.config.ImsrcConfig;
import io.imsrc.common.config.Settings;
import io.imsrc.launcher.console.Console;
import io.imsrc.launcher.services.EmbeddedServices;
import io.imsrc.launcher.services.ServiceStartException;
import java.io.IOException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What every imsrc command does the same way, so that a command's {@code call} says only what it
 * does itself:
 *
 * <ul>
 *   <li>it writes through its {@link Console}: picocli's writers (a test hands in its own), every
 *       line of its own after {@code imsrc NAME:};
 *   <li>it reads the configuration from its settings ({@link #config}) and resolves the model
 *       ({@link #model}); a value that is wrong is one line and exit code 2;
 *   <li>it starts the services ({@link #services}); one that cannot be started or reached is one
 *       line and exit code 1 (the trace goes to the log at debug level);
 *   <li>Ctrl-C runs its stop ({@link #onShutdown}), and the hook goes when the command returns;
 *   <li>any other failure is its innermost message and exit code 1, after its trace in the log.
 * </ul>
 *
 * <p>A command runs its body through {@link #run}; the body ends early by throwing a {@link
 * Failure}, which becomes its line on standard error and its exit code.
 */
final class CommandContext {

    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private static final Logger LOG = LoggerFactory.getLogger(CommandContext.class);

    /** Ends a command: its message is the command's one line on standard error. */
    static final class Failure extends Exception {
        private final int exitCode;

        Failure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        /** Bad arguments or settings, or an input that cannot be had: exit code 2. */
        static Failure usage(String message) {
            return new Failure(EXIT_USAGE, message);
        }

        int exitCode() {
            return exitCode;
        }
    }

    /** A command's work, given its context; returns the exit code. */
    @FunctionalInterface
    interface Body {
        int run(CommandContext context) throws Exception;
    }

    /** Ctrl-C's hook for as long as the command runs; {@link #close} removes it. */
    static final class ShutdownHook implements AutoCloseable {
        private final Thread thread;

        private ShutdownHook(Thread thread) {
            this.thread = thread;
            Runtime.getRuntime().addShutdownHook(thread);
        }

        @Override
        public void close() {
            try {
                Runtime.getRuntime().removeShutdownHook(thread);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs now
            }
        }
    }

    private final Settings settings;
    private final Console console;

    private CommandContext(Settings settings, Console console) {
        this.settings = settings;
        this.console = console;
    }

    /**
     * Runs {@code body} for the command {@code spec} describes, with the settings {@code settings}
     * reads.
     *
     * @return the body's exit code, or the failure's
     */
    static int run(CommandSpec spec, Supplier<Settings> settings, Body body) {
        Console console = new Console("imsrc " + spec.name(), spec.commandLine().getOut(), spec.commandLine().getErr());
        try {
            // Read here, so that a malformed .env is the command's one line and exit code 2 too.
            return body.run(new CommandContext(arguments(settings), console));
        } catch (Failure e) {
            console.error(e.getMessage());
            return e.exitCode();
        } catch (Exception e) {
            LOG.error("imsrc {} failed", spec.name(), e); // not foreseen: the trace helps
            console.error(ServiceStartException.rootMessage(e));
            return EXIT_FAILED;
        }
    }

    Console console() {
        return console;
    }

    /** The configuration from the command's settings. */
    ImsrcConfig config() throws Failure {
        return arguments(() -> ImsrcConfig.from(settings));
    }

    /**
     * What {@code read} makes of the command's arguments and settings; a value it refuses ({@link
     * IllegalArgumentException}, {@link ConfigException}) is the command's one line and exit code 2.
     */
    static <T> T arguments(Supplier<T> read) throws Failure {
        try {
            return read.get();
        } catch (ConfigException | IllegalArgumentException e) {
            throw Failure.usage(e.getMessage());
        }
    }

    /** The model MODEL_NAME and MODEL_PATH name, its file found (a URL downloaded). */
    ConfiguredModel model(ImsrcConfig config) throws Failure {
        try {
            return ConfiguredModel.resolve(config);
        } catch (IOException | IllegalArgumentException e) {
            throw Failure.usage(e.getMessage());
        }
    }

    /**
     * The services the configuration names, embedded ones started, the schema migrated; the caller
     * owns them.
     *
     * @param needKafka whether the command reads or writes uploads
     */
    EmbeddedServices services(ImsrcConfig config, boolean needKafka) throws Failure {
        try {
            return EmbeddedServices.start(config, needKafka);
        } catch (ServiceStartException e) {
            throw new Failure(EXIT_FAILED, e.getMessage());
        }
    }

    /** Runs {@code stop} when the JVM is stopped (Ctrl-C, SIGTERM) before the returned hook is closed. */
    ShutdownHook onShutdown(Runnable stop) {
        return new ShutdownHook(new Thread(stop, console.command().replace(' ', '-') + "-shutdown"));
    }
}
