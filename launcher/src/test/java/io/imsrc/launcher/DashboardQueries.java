package io.imsrc.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Grafana dashboard's PromQL read back for the tests: which metrics and labels each query names,
 * and which metrics and labels a Prometheus text exposition holds. Pure text handling, so that the
 * tests can hold the one against the other.
 *
 * <p>The PromQL reading is deliberately narrow, enough for the queries a dashboard holds: string
 * literals and range selectors are dropped, label matchers and {@code by}/{@code without} clauses
 * give the labels, an identifier followed by a parenthesis is a function or an aggregation, and
 * every other identifier is a metric name.
 */
final class DashboardQueries {

    /** The dashboard that docker-compose.yml provisions into Grafana. */
    static final Path DASHBOARD = Path.of("..").toAbsolutePath().normalize()
            .resolve("docker/grafana/dashboards/imsrc.json");

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
    private static final Pattern RANGE = Pattern.compile("\\[[^\\]]*\\]");
    private static final Pattern MATCHERS = Pattern.compile("\\{([^}]*)\\}");
    private static final Pattern MATCHER_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
    private static final Pattern GROUPING = Pattern.compile(
            "\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "and", "or", "unless", "inf", "nan", "atan2");

    private DashboardQueries() {}

    /** One query of one panel. */
    record Query(String panel, String expr) {}

    /** What one query names: metrics and labels. */
    record Names(Set<String> metrics, Set<String> labels) {}

    /** Every query of every panel (rows' nested panels too). */
    static List<Query> queries(Path dashboard) throws IOException {
        JsonNode root = new ObjectMapper().readTree(dashboard.toFile());
        List<Query> queries = new ArrayList<>();
        collect(root.path("panels"), queries);
        return queries;
    }

    private static void collect(JsonNode panels, List<Query> into) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                if (target.hasNonNull("expr")) {
                    into.add(new Query(panel.path("title").asText(), target.get("expr").asText()));
                }
            }
            collect(panel.path("panels"), into);
        }
    }

    /** The metric names and label names a PromQL expression refers to. */
    static Names names(String expr) {
        Set<String> labels = new TreeSet<>();
        String rest = STRING.matcher(expr).replaceAll("\"\"");
        rest = RANGE.matcher(rest).replaceAll("");
        Matcher matchers = MATCHERS.matcher(rest);
        while (matchers.find()) {
            Matcher label = MATCHER_LABEL.matcher(matchers.group(1));
            while (label.find()) {
                labels.add(label.group(1));
            }
        }
        rest = MATCHERS.matcher(rest).replaceAll(" ");
        Matcher grouping = GROUPING.matcher(rest);
        while (grouping.find()) {
            for (String label : grouping.group(1).split(",")) {
                if (!label.isBlank()) {
                    labels.add(label.strip());
                }
            }
        }
        rest = GROUPING.matcher(rest).replaceAll(" ");
        Set<String> metrics = new TreeSet<>();
        Matcher identifier = IDENTIFIER.matcher(rest);
        while (identifier.find()) {
            boolean function = identifier.group(2) != null;
            if (!function && !KEYWORDS.contains(identifier.group(1).toLowerCase())) {
                metrics.add(identifier.group(1));
            }
        }
        return new Names(metrics, labels);
    }

    /** Prometheus's text format: every metric name in it and the label names it carries. */
    static Map<String, Set<String>> exposition(String text) {
        Map<String, Set<String>> metrics = new TreeMap<>();
        Pattern sample = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+\\S+.*$");
        Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\"");
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = sample.matcher(line.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("not a sample of Prometheus's text format: " + line);
            }
            Set<String> labels = metrics.computeIfAbsent(m.group(1), k -> new TreeSet<>());
            if (m.group(3) != null) {
                Matcher l = label.matcher(m.group(3));
                while (l.find()) {
                    labels.add(l.group(1));
                }
            }
        }
        return metrics;
    }
}
