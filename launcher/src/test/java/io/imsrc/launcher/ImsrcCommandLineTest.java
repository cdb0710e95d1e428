package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.Settings;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The launcher's command line: every command explains itself, a wrong option says what is accepted. */
class ImsrcCommandLineTest {

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        CommandLine commandLine = Imsrc.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void the_commands_users_run_by_hand_are_there_under_their_old_names_too() {
        Result help = run("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("start", "ingest, populate", "serve", "reindex, build-index", "migrate, setup-db",
                "train", "embed", "Without a subcommand it runs `start`");
        for (List<String> aliases : List.of(List.of("ingest", "populate"), List.of("reindex", "build-index"),
                List.of("migrate", "setup-db"))) {
            assertThat(run(aliases.get(1), "--help").out()).isEqualTo(run(aliases.get(0), "--help").out());
        }
    }

    @Test
    void options_of_start_work_without_the_word_start() {
        CommandLine.ParseResult limited = Imsrc.commandLine().parseArgs(Imsrc.startByDefault(new String[] {"--limit", "1000"}));
        assertThat(limited.subcommand().commandSpec().name()).isEqualTo("start");
        assertThat(limited.subcommand().matchedOptionValue("--limit", 0L)).isEqualTo(1000L);
        assertThat(Imsrc.startByDefault(new String[] {"--help"})).containsExactly("--help");
        assertThat(Imsrc.startByDefault(new String[] {"serve", "--port", "0"})).containsExactly("serve", "--port", "0");
        assertThat(Imsrc.startByDefault(new String[0])).isEmpty();
        Result wrong = run(Imsrc.startByDefault(new String[] {"--limt", "1000"}));
        assertThat(wrong.exit()).isEqualTo(2);
        assertThat(wrong.err()).contains("Unknown options: '--limt'", "Possible solutions: --limit", "Usage: imsrc start");
    }

    @Test
    void every_command_explains_itself() {
        for (String command : List.of("start", "ingest", "serve", "reindex", "migrate", "train", "embed")) {
            Result help = run(command, "--help");
            assertThat(help.exit()).as(command).isZero();
            assertThat(help.out()).as(command).startsWith("Usage: imsrc " + command).contains("--help");
        }
        assertThat(run("start", "--help").out()).contains("--limit, --num-images=N", "--source=LOCATION[#ROOT]",
                "CIFAR10_SOURCE", "Ctrl-C");
        assertThat(run("populate", "--help").out()).contains("--limit, --num-images=N", "--skip-ingested", "--watch");
        assertThat(run("train", "--help").out()).contains("--name=NAME", "--resume", "--source=LOCATION[#ROOT]",
                "--holdout=LOCATION[#ROOT]", "--epochs=N", "DATA_DIR/models/NAME/", "Ctrl-C");
    }

    @Test
    void train_needs_a_name_and_resumes_only_with_the_settings_it_started_with(@TempDir Path temp) {
        Result noName = run("train", "--epochs", "3");
        assertThat(noName.exit()).isEqualTo(2);
        assertThat(noName.err()).contains("Missing required option: '--name=NAME'");

        CapturedConsole resumed = new CapturedConsole();
        Settings settings = Settings.of(Map.of("DATA_DIR", temp.toString()));
        CommandLine train = resumed.commandLine(new TrainCommand().withSettings(settings));
        assertThat(train.execute("--name", "mine", "--resume", "--epochs", "5", "--seed", "3")).isEqualTo(2);
        assertThat(resumed.err())
                .contains("--resume continues with the settings the run started with; leave out --epochs, --seed");
        CapturedConsole wrongDepth = new CapturedConsole();
        CommandLine bad = wrongDepth.commandLine(new TrainCommand().withSettings(settings));
        assertThat(bad.execute("--name", "mine", "--no-library", "--depth", "21")).isEqualTo(2);
        assertThat(wrongDepth.err()).contains("6n + 2");
        assertThat(temp).isEmptyDirectory();
    }

    @Test
    void a_wrong_option_is_refused_with_what_is_accepted() {
        Result wrong = run("start", "--num-image", "5");
        assertThat(wrong.exit()).isEqualTo(2);
        assertThat(wrong.err()).contains("Unknown options: '--num-image'").contains("Possible solutions: --num-images")
                .contains("Usage: imsrc start").contains("--source=LOCATION[#ROOT]");
        Result badValue = run("ingest", "--limit", "many");
        assertThat(badValue.exit()).isEqualTo(2);
        assertThat(badValue.err()).contains("Invalid value for option '--num-images'").contains("'many' is not a long")
                .contains("Usage: imsrc ingest");
        assertThat(run("frobnicate").err()).contains("Unmatched argument").contains("Commands:");
    }

    @Test
    void a_taken_port_is_refused_before_anything_starts(@TempDir Path temp) throws Exception {
        CapturedConsole console = new CapturedConsole();
        try (ServerSocket taken = new ServerSocket(0)) {
            Map<String, String> env = Map.of("DATA_DIR", temp.toString(), "API_PORT", Integer.toString(taken.getLocalPort()));
            int exit = console.commandLine(new StartCommand().withSettings(Settings.of(env))).execute();
            assertThat(exit).isEqualTo(2);
        }
        assertThat(console.err()).contains("for the API is taken").contains("API_PORT (or --port)");
        assertThat(temp.resolve("postgres")).as("nothing started").doesNotExist();
    }
}
