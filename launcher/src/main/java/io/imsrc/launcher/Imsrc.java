package io.imsrc.launcher;

import java.io.PrintWriter;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code bin/imsrc}: the one command. Alone (or as {@code start}) it runs the whole system; its
 * other subcommands are the steps a user runs by hand: {@code ingest} (alias {@code populate}),
 * {@code serve}, {@code reindex} ({@code build-index}), {@code migrate} ({@code setup-db}) and
 * {@code embed}.
 */
@Command(name = "imsrc", mixinStandardHelpOptions = true, version = "imsrc 0.1.0",
        description = {"Image similarity search on the JVM.",
            "Without a subcommand it runs `start`: everything on one machine, ingesting CIFAR-10 on first start; "
                    + "`imsrc --limit 1000` is `imsrc start --limit 1000`."},
        subcommands = {StartCommand.class, IngestCommand.class, ServeCommand.class, ReindexCommand.class,
            MigrateCommand.class, TrainCommand.class, EmbedCommand.class},
        footer = {"%nConfiguration comes from environment variables (and a .env file in the working directory): "
                + "see the README's configuration reference. `imsrc <command> --help` explains each command."})
public final class Imsrc implements Callable<Integer> {

    private static final Set<String> OWN_OPTIONS = Set.of("-h", "--help", "-V", "--version");

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        // Entry point only: DJL must never download anything.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        System.exit(commandLine().execute(startByDefault(args)));
    }

    /**
     * {@code imsrc --limit 1000} is {@code imsrc start --limit 1000}: arguments that begin with an
     * option other than the command's own help and version go to {@code start}, the command that
     * runs without a name. (picocli has no default subcommand; a bare {@code imsrc} reaches {@link
     * #call}.)
     */
    static String[] startByDefault(String[] args) {
        if (args.length == 0 || !args[0].startsWith("-") || OWN_OPTIONS.contains(args[0])) {
            return args;
        }
        String[] withStart = new String[args.length + 1];
        withStart[0] = "start";
        System.arraycopy(args, 0, withStart, 1, args.length);
        return withStart;
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Imsrc());
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
        return new CommandLine(new StartCommand()).setOut(spec.commandLine().getOut())
                .setErr(spec.commandLine().getErr()).execute();
    }
}
