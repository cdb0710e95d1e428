package io.imsrc.launcher;

import io.imsrc.common.embed.EmbedCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/imsrc}: the one command. Today its subcommands are {@code ingest} (the ingest job in
 * a local Flink, on embedded services), {@code serve} (the query server) and {@code embed} (embed
 * image files and print what the model sees).
 */
@Command(name = "imsrc", mixinStandardHelpOptions = true, version = "imsrc 0.1.0",
        description = "Image similarity search on the JVM.",
        subcommands = {IngestCommand.class, ServeCommand.class})
public final class Imsrc implements Runnable {

    public static void main(String[] args) {
        // Entry point only: DJL must never download anything.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        CommandLine commandLine = new CommandLine(new Imsrc());
        commandLine.addSubcommand("embed", new EmbedCommand());
        System.exit(commandLine.execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
