package io.imsrc.launcher;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * What a command writes to standard output and standard error, captured while it runs (its
 * console reads the streams picocli hands it, so nothing here touches System.out or System.err).
 */
final class CapturedConsole {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** {@code command} on a command line that writes here. */
    CommandLine commandLine(Object command) {
        return new CommandLine(command)
                .setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true))
                .setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    }

    /** Standard output so far. */
    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Standard error so far. */
    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
