package io.imsrc.common.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Raw configuration values by variable name, and typed reads of them that collect every problem
 * instead of stopping at the first, so a user fixes a bad configuration in one go.
 *
 * <p>Values come from the process environment laid over an optional {@code .env} file (the
 * environment wins, as with Docker Compose). Only entry points build a {@code Settings}; everything
 * below them takes the typed {@link ImsrcConfig}.
 *
 * <p>Not thread-safe: read it on one thread, then pass the resulting config around.
 */
public final class Settings {

    private final Map<String, String> values;
    private final List<String> problems = new ArrayList<>();

    private Settings(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** The given values only; for tests and for callers that gather values themselves. */
    public static Settings of(Map<String, String> values) {
        return new Settings(values);
    }

    /** The process environment over the {@code .env} file in the working directory, if there is one. */
    public static Settings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(".env"));
    }

    /** {@code environment} over the dotenv file {@code envFile} (which may be absent). */
    public static Settings fromEnvironment(Map<String, String> environment, Path envFile) {
        Map<String, String> merged = new HashMap<>();
        if (Files.isRegularFile(envFile)) {
            merged.putAll(parseDotEnv(envFile));
        }
        merged.putAll(environment);
        return new Settings(merged);
    }

    /**
     * Reads a dotenv file: {@code NAME=value} lines, blank lines and {@code #} comments ignored, an
     * optional {@code export } prefix, values optionally in single or double quotes.
     */
    static Map<String, String> parseDotEnv(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        }
        Map<String, String> out = new HashMap<>();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("export ")) {
                line = line.substring("export ".length()).strip();
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                bad.add(file + " line " + (i + 1) + ": expected NAME=value, got '" + lines.get(i) + "'");
                continue;
            }
            String name = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2
                    && ((value.startsWith("\"") && value.endsWith("\"")) || (value.startsWith("'") && value.endsWith("'")))) {
                value = value.substring(1, value.length() - 1);
            } else {
                int comment = value.indexOf(" #");
                if (comment >= 0) {
                    value = value.substring(0, comment).strip();
                }
            }
            out.put(name, value);
        }
        if (!bad.isEmpty()) {
            throw new ConfigException(bad);
        }
        return out;
    }

    /** The value if set and not blank. */
    public Optional<String> raw(String name) {
        String v = values.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
    }

    public String string(String name, String defaultValue) {
        return raw(name).orElse(defaultValue);
    }

    /** A value that is absent by default; null when unset. */
    public String optionalString(String name) {
        return raw(name).orElse(null);
    }

    public int integer(String name, int defaultValue, int min, int max) {
        return (int) longValue(name, defaultValue, min, max);
    }

    public long longValue(String name, long defaultValue, long min, long max) {
        Optional<String> v = raw(name);
        if (v.isEmpty()) {
            return defaultValue;
        }
        try {
            long parsed = Long.parseLong(v.get().replace("_", ""));
            if (parsed < min || parsed > max) {
                problem(name, "an integer from " + min + " to " + max, v.get());
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problem(name, "an integer from " + min + " to " + max, v.get());
            return defaultValue;
        }
    }

    public boolean bool(String name, boolean defaultValue) {
        Optional<String> v = raw(name);
        if (v.isEmpty()) {
            return defaultValue;
        }
        switch (v.get().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "yes", "on":
                return true;
            case "false", "0", "no", "off":
                return false;
            default:
                problem(name, "true or false (also 1/0, yes/no, on/off)", v.get());
                return defaultValue;
        }
    }

    /**
     * A value parsed by {@code parser}, whose IllegalArgumentException message says what it accepts.
     */
    public <T> T parsed(String name, T defaultValue, Function<String, T> parser) {
        Optional<String> v = raw(name);
        if (v.isEmpty()) {
            return defaultValue;
        }
        try {
            return parser.apply(v.get());
        } catch (IllegalArgumentException e) {
            problems.add(name + ": " + e.getMessage());
            return defaultValue;
        }
    }

    /** Records a problem found by the caller's own check. */
    public void problem(String name, String accepts, String got) {
        problems.add(name + ": expected " + accepts + ", got '" + got + "'");
    }

    /** Throws a {@link ConfigException} listing every problem seen so far, if any. */
    public void throwIfInvalid() {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }
}
