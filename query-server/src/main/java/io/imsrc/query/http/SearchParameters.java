package io.imsrc.query.http;

import io.imsrc.common.record.CategoryNames;
import io.imsrc.query.search.SearchRequest;
import io.javalin.http.Context;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The query parameters of the search endpoints, checked into a {@link SearchRequest}: limit,
 * offset, use_prototypes, top_categories, min_similarity and category (repeated, or separated by
 * commas). A bad value is a 400 that names the parameter, what it accepts and what came.
 */
public final class SearchParameters {

    private final int defaultLimit;
    private final boolean defaultUsePrototypes;

    public SearchParameters(int defaultLimit, boolean defaultUsePrototypes) {
        this.defaultLimit = defaultLimit;
        this.defaultUsePrototypes = defaultUsePrototypes;
    }

    public SearchRequest parse(Context ctx) {
        int limit = integer(ctx, "limit", defaultLimit, 1, SearchRequest.MAX_LIMIT);
        int offset = integer(ctx, "offset", 0, 0, SearchRequest.MAX_OFFSET);
        boolean usePrototypes = bool(ctx, "use_prototypes", defaultUsePrototypes);
        int topCategories = integer(ctx, "top_categories", SearchRequest.DEFAULT_TOP_CATEGORIES, 1,
                SearchRequest.MAX_TOP_CATEGORIES);
        double minSimilarity = decimal(ctx, "min_similarity", -1, -1, 1);
        return new SearchRequest(limit, offset, usePrototypes, topCategories, minSimilarity, categories(ctx), 0);
    }

    /** The category parameter alone (POST /search/prototypes). */
    public static Set<String> categories(Context ctx) {
        Set<String> names = new LinkedHashSet<>();
        for (String value : ctx.queryParams("category")) {
            for (String part : value.split(",")) {
                String name = part.strip();
                if (name.isEmpty()) {
                    continue;
                }
                CategoryNames.problem(name).ifPresent(problem -> {
                    throw invalid("category", "category names of 1-" + CategoryNames.MAX_LENGTH + " characters", name);
                });
                names.add(name);
            }
        }
        return names;
    }

    static int integer(Context ctx, String name, int defaultValue, int min, int max) {
        return number(ctx, name, defaultValue, Integer::parseInt, min, max, "an integer from " + min + " to " + max);
    }

    static double decimal(Context ctx, String name, double defaultValue, double min, double max) {
        return number(ctx, name, defaultValue, Double::parseDouble, min, max, "a number from " + min + " to " + max);
    }

    /** The parameter parsed and within [min, max] (NaN never is), the default when it is absent. */
    private static <T extends Number> T number(Context ctx, String name, T defaultValue, Function<String, T> parse,
            double min, double max, String accepts) {
        String raw = single(ctx, name);
        if (raw == null) {
            return defaultValue;
        }
        try {
            T value = parse.apply(raw.strip());
            if (value.doubleValue() >= min && value.doubleValue() <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid(name, accepts, raw);
    }

    static boolean bool(Context ctx, String name, boolean defaultValue) {
        String raw = single(ctx, name);
        if (raw == null) {
            return defaultValue;
        }
        return switch (raw.strip().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw invalid(name, "true or false", raw);
        };
    }

    private static String single(Context ctx, String name) {
        List<String> values = ctx.queryParams(name);
        if (values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw ApiException.badRequest("invalid_parameter", name + " was given " + values.size() + " times; give it once");
        }
        String value = values.get(0);
        return value.isBlank() ? null : value;
    }

    private static ApiException invalid(String name, String accepts, String got) {
        String shown = got.length() > 64 ? got.substring(0, 64) + "..." : got;
        return ApiException.badRequest("invalid_parameter", name + " must be " + accepts + ", got '" + shown + "'");
    }
}
