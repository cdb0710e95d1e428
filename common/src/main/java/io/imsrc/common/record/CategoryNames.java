package io.imsrc.common.record;

import java.util.Optional;

/**
 * The rule for category names, shared by everything that creates categories (folder names, CIFAR
 * labels, uploads): 1 to {@value #MAX_LENGTH} characters, not blank, no control characters. Names
 * are kept as given (case and spaces), since they are shown to people.
 */
public final class CategoryNames {

    /** The categories table's limit. */
    public static final int MAX_LENGTH = 200;

    private CategoryNames() {}

    /** Why {@code name} is not a valid category name, or empty when it is. */
    public static Optional<String> problem(String name) {
        if (name == null || name.isBlank()) {
            return Optional.of("a category name must not be empty");
        }
        if (name.length() > MAX_LENGTH) {
            return Optional.of("a category name has at most " + MAX_LENGTH + " characters, got " + name.length());
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                return Optional.of("a category name must not hold control characters");
            }
        }
        return Optional.empty();
    }
}
