package io.imsrc.launcher.console;

import io.imsrc.launcher.services.EmbeddedServices;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Where a command writes: standard output for what it reports (addresses, progress, outcome),
 * standard error for its failures and warnings, one line each, after the command's name ({@code
 * imsrc start: ...}). The writers are picocli's, so a test hands in its own.
 *
 * <p>Thread-safe as far as {@link PrintWriter} is: lines from the pollers and the main thread do not
 * interleave within a line.
 *
 * @param command the command as the user typed it, {@code imsrc start}
 * @param out its standard output
 * @param err its standard error
 */
public record Console(String command, PrintWriter out, PrintWriter err) {

    /** A line of the command's report on standard output, after its name. */
    public void say(String message) {
        out.println(command + ": " + message);
        out.flush();
    }

    /** {@link #say}, formatted in the root locale. */
    public void say(String format, Object... args) {
        say(String.format(Locale.ROOT, format, args));
    }

    /** A detail line on standard output, as it is (indented under the line that said what it is). */
    public void detail(String line) {
        out.println(line);
        out.flush();
    }

    /** One line on standard error, after the command's name: why the command did not do its work. */
    public void error(String message) {
        err.println(command + ": " + message);
        err.flush();
    }

    /** One line on standard error for what the command works around. */
    public void warning(String message) {
        error("WARNING: " + message);
    }

    /** The services' lines of an address block: PostgreSQL, and Kafka when it is used. */
    public void services(EmbeddedServices services, String uploadsTopic) {
        detail("  PostgreSQL       " + services.database().jdbcUrl() + (services.embeddedPostgres() ? " (embedded)" : ""));
        if (services.kafkaBootstrapServers() != null) {
            detail("  Kafka            " + services.kafkaBootstrapServers() + (services.embeddedKafka() ? " (embedded)" : "")
                    + ", uploads topic " + uploadsTopic);
        }
    }
}
