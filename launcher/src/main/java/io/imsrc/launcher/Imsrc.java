package io.imsrc.launcher;

import io.imsrc.common.embed.EmbedCommand;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code bin/imsrc}: the one command. Alone (or as {@code start}) it runs the whole system; its
 * other subcommands are the steps a user runs by hand: {@code ingest} (alias {@code populate}),
 * {@code serve}, {@code reindex} ({@code build-index}), {@code migrate} ({@code setup-db}) and
 * {@code embed}.
 */
@Command(name = "imsrc", mixinStandardHelpOptions = true, version = "imsrc 0.1.0",
        description = {"Image similarity search on the JVM.",
            "Without a subcommand it runs `start`: everything on one machine, ingesting CIFAR-10 on first start."},
        subcommands = {StartCommand.class, IngestCommand.class, ServeCommand.class, ReindexCommand.class,
            MigrateCommand.class, TrainCommand.class},
        footer = {"%nConfiguration comes from environment variables (and a .env file in the working directory): "
                + "see the README's configuration reference. `imsrc <command> --help` explains each command."})
public final class Imsrc implements Callable<Integer> {

    public static void main(String[] args) {
        // Entry point only: DJL must never download anything.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Imsrc());
        // common's embed tool calls itself imsrc-embed when it runs alone; here it is `imsrc embed`.
        commandLine.addSubcommand("embed", new CommandLine(new EmbedCommand()).setCommandName("embed"));
        // A wrong option or value: say what was wrong, the nearest option, and every option accepted.
        commandLine.setParameterExceptionHandler((ex, args) -> {
            CommandLine failed = ex.getCommandLine();
            PrintWriter err = failed.getErr();
            err.println(ex.getMessage());
            UnmatchedArgumentException.printSuggestions(ex, err);
            failed.usage(err);
            return failed.getCommandSpec().exitCodeOnInvalidInput();
        });
        return commandLine;
    }

    /** No subcommand: {@code start}. */
    @Override
    public Integer call() {
        return new CommandLine(new StartCommand()).execute();
    }
}
