package io.imsrc.common.config;

import java.util.List;

/**
 * Configuration that cannot be used: each problem names the variable, what it accepts and what it
 * got. Thrown at start-up, before anything is started.
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(problems.size() == 1
                ? "Invalid configuration: " + problems.get(0)
                : "Invalid configuration:\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
