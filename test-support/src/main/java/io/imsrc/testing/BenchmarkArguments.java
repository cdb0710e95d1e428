package io.imsrc.testing;

import java.util.LinkedHashMap;
import java.util.Map;

/** The benchmarks' command lines: {@code --name=value} pairs, a bare {@code --flag} meaning true. */
public final class BenchmarkArguments {

    private BenchmarkArguments() {}

    /** The arguments by name, in the order given; a later repeat wins. */
    public static Map<String, String> parse(String... args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            String[] kv = arg.replaceFirst("^--", "").split("=", 2);
            options.put(kv[0], kv.length > 1 ? kv[1] : "true");
        }
        return options;
    }

    /** The value of {@code --name}, or a failure that names the missing option. */
    public static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }
}
