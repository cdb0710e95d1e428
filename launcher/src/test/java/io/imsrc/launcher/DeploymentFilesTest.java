package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * What can be checked of the production topology without a Docker engine (none runs here; .ci/run
 * also runs Debian's {@code docker-compose config}): docker-compose.yml and docker/Dockerfile agree
 * with each other, with the repository and with the configuration reference in the README.
 */
class DeploymentFilesTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Set<String> INSTRUCTIONS = Set.of("FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY",
            "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL");
    /** Variables the compose file sets for a container's own program, not for imsrc. */
    private static final Set<String> NOT_IMSRC = Set.of("JAVA_OPTS", "DJL_CACHE_DIR", "FLINK_PROPERTIES");

    /** A {@code java} of the test's for running the image's entry point here. */
    @TempDir Path stubs;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> compose() throws IOException {
        return (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(ROOT.resolve("docker-compose.yml")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> services() throws IOException {
        return (Map<String, Object>) compose().get("services");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o == null ? Map.of() : (Map<String, Object>) o;
    }

    /** A service's environment with YAML merge keys ({@code <<: *anchor}) applied. */
    private static Map<String, Object> environment(Map<String, Object> service) {
        Map<String, Object> env = new LinkedHashMap<>();
        Map<String, Object> declared = map(service.get("environment"));
        env.putAll(map(declared.get("<<")));
        declared.forEach((k, v) -> {
            if (!k.equals("<<")) {
                env.put(k, v);
            }
        });
        return env;
    }

    /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
    private static List<String> dockerfile() throws IOException {
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(ROOT.resolve("docker/Dockerfile"))) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
            } else {
                current.append(trimmed);
                instructions.add(current.toString().strip());
                current.setLength(0);
            }
        }
        assertThat(current).as("a continuation line at the end of the Dockerfile").isEmpty();
        return instructions;
    }

    @Test
    void the_compose_file_has_the_production_topology() throws Exception {
        Map<String, Object> services = services();
        assertThat(services).containsOnlyKeys("postgres", "kafka", "jobmanager", "taskmanager", "submit-job",
                "query-server", "proxy", "prometheus", "grafana");
        for (String name : List.of("postgres", "kafka", "jobmanager", "query-server", "proxy", "prometheus")) {
            assertThat(map(services.get(name)).get("healthcheck")).as(name + " has a health check").isNotNull();
        }
        assertThat(map(services.get("submit-job")).get("restart")).as("the submitter is a one-shot").isEqualTo("no");
        assertThat(environment(map(services.get("submit-job")))).containsEntry("FLINK_REST_URL", "http://jobmanager:8081");
        assertThat((List<Object>) map(services.get("submit-job")).get("command")).contains("ingest");
        assertThat((List<Object>) map(services.get("query-server")).get("command")).containsExactly("serve");
        assertThat(map(services.get("jobmanager")).get("ports").toString()).contains(":8081");
        assertThat(map(services.get("proxy")).get("ports").toString()).contains(":8000");
        // The server listens on loopback unless told otherwise: a published container must say so.
        assertThat(environment(map(services.get("query-server")))).containsEntry("API_HOST", "0.0.0.0");
        assertThat(dockerfile()).as("the imsrc image listens beyond its own loopback")
                .anyMatch(i -> i.startsWith("ENV ") && i.contains("API_HOST=0.0.0.0"));

        // Named volumes are declared; every image is pulled with a tag or built by a service here.
        Set<String> declaredVolumes = map(compose().get("volumes")).keySet();
        Set<String> built = new TreeSet<>();
        services.values().forEach(s -> {
            if (map(s).containsKey("build")) {
                built.add((String) map(s).get("image"));
            }
        });
        for (var entry : services.entrySet()) {
            Map<String, Object> service = map(entry.getValue());
            for (Object volume : (List<Object>) service.getOrDefault("volumes", List.of())) {
                String source = volume.toString().split(":")[0];
                if (!source.startsWith(".") && !source.startsWith("/")) {
                    assertThat(declaredVolumes).as(entry.getKey() + "'s volume " + source).contains(source);
                }
            }
            String image = (String) service.get("image");
            assertThat(image).as(entry.getKey() + "'s image").isNotNull().matches(".+:[\\w.-]+")
                    .doesNotEndWith(":latest");
            if (!service.containsKey("build") && image.startsWith("imsrc")) {
                assertThat(built).as(entry.getKey() + " runs an image another service builds").contains(image);
            }
            for (String dependency : map(service.get("depends_on")).keySet()) {
                assertThat(services).as(entry.getKey() + " depends on " + dependency).containsKey(dependency);
            }
        }
    }

    @Test
    void every_build_names_a_stage_of_the_dockerfile_and_every_copy_source_exists() throws Exception {
        List<String> instructions = dockerfile();
        Set<String> stages = new LinkedHashSet<>();
        Pattern from = Pattern.compile("FROM\\s+(\\S+)(?:\\s+AS\\s+(\\S+))?", Pattern.CASE_INSENSITIVE);
        List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore"));
        for (String instruction : instructions) {
            String keyword = instruction.split("\\s+")[0].toUpperCase();
            assertThat(INSTRUCTIONS).as(instruction).contains(keyword);
            Matcher m = from.matcher(instruction);
            if (m.matches()) {
                assertThat(m.group(1)).as("a pinned base image").matches(".+:[\\w.-]+").doesNotEndWith(":latest");
                if (m.group(2) != null) {
                    stages.add(m.group(2));
                }
                continue;
            }
            if (keyword.equals("COPY") || keyword.equals("ADD")) {
                List<String> words = new ArrayList<>(List.of(instruction.split("\\s+")));
                words.remove(0);
                String fromStage = null;
                while (words.get(0).startsWith("--")) {
                    String flag = words.remove(0);
                    if (flag.startsWith("--from=")) {
                        fromStage = flag.substring("--from=".length());
                    }
                }
                if (fromStage != null) {
                    assertThat(stages).as(instruction + ": a stage defined above").contains(fromStage);
                    continue;
                }
                for (String source : words.subList(0, words.size() - 1)) {
                    assertThat(ROOT.resolve(source)).as(instruction + ": the source in the build context").exists();
                    for (String pattern : ignored) {
                        assertThat(source).as(".dockerignore must not hide " + source)
                                .doesNotStartWith(pattern.replace("/", "").replace("*", ""));
                    }
                }
            }
        }
        assertThat(stages).contains("build", "imsrc", "flink");
        for (var entry : services().entrySet()) {
            Map<String, Object> build = map(map(entry.getValue()).get("build"));
            if (!build.isEmpty()) {
                assertThat(ROOT.resolve((String) build.get("context")).resolve((String) build.get("dockerfile"))).exists();
                assertThat(stages).as(entry.getKey() + "'s build target").contains((String) build.get("target"));
            }
        }
        assertThat(instructions).anyMatch(i -> i.startsWith("FROM flink:2.0.0"));
        assertThat(instructions)
                .as("DJL goes into Flink's lib/ (docs/design.md, \"Pinned versions and the stack's traps\")")
                .anyMatch(i -> i.matches("COPY --from=build \\S*flink-lib\\S* /opt/flink/lib/?"));
        assertThat(ROOT.resolve("docker/imsrc-entrypoint.sh")).isExecutable();
        assertThat(Files.readString(ROOT.resolve("docker/imsrc-entrypoint.sh"))).contains(Imsrc.class.getName());
        assertThat(ROOT.resolve("launcher/src/main/resources/imsrc/log4j2-launcher.xml")).exists();
    }

    @Test
    void every_variable_imsrc_reads_or_compose_sets_is_in_the_readme_reference() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Set<String> documented = new TreeSet<>();
        // A row's first cell names one variable or several: "| API_HOST, API_PORT | ...".
        Matcher row = Pattern.compile("(?m)^\\|\\s*([A-Z][A-Z0-9_]+(?:,\\s*[A-Z][A-Z0-9_]+)*)\\s*\\|").matcher(readme);
        while (row.find()) {
            documented.addAll(List.of(row.group(1).split(",\\s*")));
        }
        // What ImsrcConfig reads: every upper-case string literal it passes to Settings.
        String config = Files.readString(ROOT.resolve("common/src/main/java/io/imsrc/common/config/ImsrcConfig.java"));
        Set<String> read = new TreeSet<>();
        Matcher literal = Pattern.compile("\\(s, \"([A-Z][A-Z0-9_]+)\"|s\\.\\w+\\(\"([A-Z][A-Z0-9_]+)\"").matcher(config);
        while (literal.find()) {
            read.add(literal.group(1) != null ? literal.group(1) : literal.group(2));
        }
        assertThat(read).contains("DB_HOST", "CIFAR10_SOURCE", "FLINK_REST_URL", "FLINK_JOB_JAR");
        assertThat(documented).as("the README's configuration reference").containsAll(read);

        for (String service : List.of("submit-job", "query-server")) {
            for (String variable : environment(map(services().get(service))).keySet()) {
                if (!NOT_IMSRC.contains(variable)) {
                    assertThat(read).as(service + " sets " + variable + ", which imsrc reads").contains(variable);
                }
            }
        }
    }

    /** The instructions of one stage of the Dockerfile, from its FROM to the next. */
    private static List<String> stage(String name) throws IOException {
        List<String> stage = new ArrayList<>();
        boolean in = false;
        for (String instruction : dockerfile()) {
            if (instruction.toUpperCase().startsWith("FROM ")) {
                in = instruction.matches("(?i)FROM\\s+\\S+\\s+AS\\s+" + Pattern.quote(name));
            } else if (in) {
                stage.add(instruction);
            }
        }
        assertThat(stage).as("the Dockerfile's stage " + name).isNotEmpty();
        return stage;
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Object o) {
        List<String> strings = new ArrayList<>();
        for (Object item : o == null ? List.of() : (List<Object>) o) {
            strings.add(item.toString());
        }
        return strings;
    }

    private static Map<String, Object> yaml(String path) throws IOException {
        return yamlText(Files.readString(ROOT.resolve(path)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yamlText(String text) {
        return (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(text);
    }

    /** The Flink configuration the compose file passes to the JobManager and TaskManagers. */
    private static Map<String, Object> flinkProperties(String service) throws IOException {
        return yamlText(environment(map(services().get(service))).get("FLINK_PROPERTIES").toString());
    }

    /** Where the service mounts the file or folder {@code source} (relative to the repository), if it does. */
    private static String mountOf(Map<String, Object> service, String source) {
        for (String volume : list(service.get("volumes"))) {
            String[] parts = volume.split(":");
            if (Path.of(parts[0]).normalize().equals(Path.of(source).normalize())) {
                return parts[1];
            }
        }
        throw new AssertionError("no volume mounts " + source + ": " + service.get("volumes"));
    }

    /** Runs a command here and returns its output, stripped. */
    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
        return out.strip();
    }

    /**
     * The FAISS_INDEX_PATH the image's entry point hands to the launcher, given {@code configured}
     * (null: unset): the script runs with a {@code java} of the test's that prints it.
     */
    private String entryPointIndexPath(String configured) throws Exception {
        Path java = stubs.resolve("java");
        if (!Files.exists(java)) {
            Files.writeString(java, "#!/bin/sh\nprintf '%s' \"${FAISS_INDEX_PATH:-}\"\n");
            assertThat(java.toFile().setExecutable(true)).isTrue();
        }
        ProcessBuilder builder = new ProcessBuilder("sh", ROOT.resolve("docker/imsrc-entrypoint.sh").toString(), "serve")
                .redirectErrorStream(true);
        builder.environment().put("PATH", stubs + ":" + System.getenv("PATH"));
        builder.environment().remove("FAISS_INDEX_PATH");
        if (configured != null) {
            builder.environment().put("FAISS_INDEX_PATH", configured);
        }
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void query_server_replicas_scale_behind_one_proxy_each_with_an_index_of_its_own() throws Exception {
        Map<String, Object> services = services();
        Map<String, Object> server = map(services.get("query-server"));
        // `--scale query-server=N` starts N containers of one definition: a fixed host port or name
        // would make the second fail to start.
        assertThat(server).as("query-server publishes no host port; the proxy does").doesNotContainKey("ports")
                .doesNotContainKey("container_name");
        assertThat(list(server.get("expose"))).containsExactly("8000");
        assertThat(environment(server)).containsEntry("API_PORT", "8000");

        // Its index: under /data, the imsrc image's anonymous volume (one per container), and under no
        // volume the compose file names, which every replica would share ...
        Object indexPath = environment(server).get("FAISS_INDEX_PATH");
        assertThat(indexPath).as("query-server's FAISS_INDEX_PATH").isNotNull();
        assertThat(Path.of(indexPath.toString()).startsWith("/data")).as(indexPath + " under /data").isTrue();
        assertThat(stage("imsrc")).contains("VOLUME /data");
        for (String volume : list(server.get("volumes"))) {
            String target = volume.split(":")[1];
            assertThat(Path.of(indexPath.toString()).startsWith(Path.of(target)))
                    .as("the index path under the shared volume " + volume).isFalse();
        }
        // ... and at a path of its own, since the path keys the saved index's row in PostgreSQL: the
        // entry point puts the container's host name in.
        assertThat(indexPath.toString()).contains("{hostname}");
        assertThat(entryPointIndexPath(indexPath.toString())).isEqualTo(
                indexPath.toString().replace("{hostname}", run("uname", "-n")));
        assertThat(entryPointIndexPath(null)).as("without FAISS_INDEX_PATH the server's default holds").isEmpty();

        // The proxy: the one published API port, resolving the replicas again and again.
        Map<String, Object> proxy = map(services.get("proxy"));
        assertThat(list(proxy.get("ports"))).containsExactly("${API_PORT:-8000}:8000");
        assertThat(map(proxy.get("depends_on"))).containsKey("query-server");
        String conf = Files.readString(ROOT.resolve("docker/nginx/imsrc.conf"));
        assertThat(mountOf(proxy, "docker/nginx/imsrc.conf")).isEqualTo("/etc/nginx/conf.d/default.conf");
        assertThat(conf).containsPattern("(?m)^\\s*listen 8000;")
                // Docker's embedded DNS, asked again after a few seconds: scaling needs no proxy restart.
                .containsPattern("(?m)^resolver 127\\.0\\.0\\.11 valid=\\d+s")
                // A variable upstream is what makes nginx resolve per request instead of once at start.
                .containsPattern("(?m)^\\s*set \\$(\\w+) http://query-server:8000;\\s*\\n\\s*proxy_pass \\$\\1;")
                // Uploads up to MAX_UPLOAD_SIZE pass; the server enforces the limit itself.
                .containsPattern("(?m)^\\s*client_max_body_size 0;");
        assertThat(conf).as("a POST is never retried on another replica")
                .doesNotContainPattern("(?m)^\\s*proxy_next_upstream[^;]*non_idempotent");
    }

    @Test
    @SuppressWarnings("unchecked")
    void prometheus_scrapes_every_replica_and_flink_and_grafana_shows_the_provisioned_dashboard() throws Exception {
        Map<String, Object> services = services();
        // Flink's Prometheus reporter, which the flink image ships as a plugin, on both Flink services.
        for (String flink : List.of("jobmanager", "taskmanager")) {
            assertThat(flinkProperties(flink))
                    .containsEntry("metrics.reporter.prom.factory.class",
                            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory")
                    .containsEntry("metrics.reporter.prom.port", 9249);
        }

        // Prometheus finds every replica and TaskManager by the service's name in Docker's DNS.
        Map<String, Object> prometheus = map(services.get("prometheus"));
        assertThat(mountOf(prometheus, "docker/prometheus/prometheus.yml")).isEqualTo("/etc/prometheus/prometheus.yml");
        Map<String, Map<String, Object>> jobs = new LinkedHashMap<>();
        for (Object job : (List<Object>) yaml("docker/prometheus/prometheus.yml").get("scrape_configs")) {
            jobs.put((String) map(job).get("job_name"), map(job));
        }
        assertThat(jobs).containsOnlyKeys("query-server", "flink-jobmanager", "flink-taskmanager");
        Map<String, Object> replicas = map(((List<Object>) jobs.get("query-server").get("dns_sd_configs")).get(0));
        assertThat(list(replicas.get("names"))).containsExactly("query-server");
        assertThat(replicas).containsEntry("type", "A").containsEntry("port", 8000);
        assertThat(jobs.get("query-server")).containsEntry("metrics_path", "/metrics");
        Map<String, Object> taskManagers = map(((List<Object>) jobs.get("flink-taskmanager").get("dns_sd_configs")).get(0));
        assertThat(list(taskManagers.get("names"))).containsExactly("taskmanager");
        assertThat(taskManagers).containsEntry("port", 9249);
        assertThat(list(map(((List<Object>) jobs.get("flink-jobmanager").get("static_configs")).get(0)).get("targets")))
                .containsExactly("jobmanager:9249");
        for (Map<String, Object> job : jobs.values()) {
            for (String target : List.of("names", "targets")) {
                job.values().forEach(v -> {
                    if (v instanceof List<?> configs) {
                        configs.forEach(c -> list(map(c).get(target)).forEach(name -> assertThat(services)
                                .as("the scraped service " + name).containsKey(name.split(":")[0])));
                    }
                });
            }
        }

        // Grafana: the provisioned data source is the Prometheus service, and every panel of the
        // dashboard (in the folder the provider reads) uses it.
        Map<String, Object> grafana = map(services.get("grafana"));
        assertThat(mountOf(grafana, "docker/grafana/provisioning")).isEqualTo("/etc/grafana/provisioning");
        String dashboards = mountOf(grafana, "docker/grafana/dashboards");
        Map<String, Object> datasource = map(((List<Object>) yaml("docker/grafana/provisioning/datasources/prometheus.yml")
                .get("datasources")).get(0));
        assertThat(datasource).containsEntry("type", "prometheus").containsEntry("url", "http://prometheus:9090");
        assertThat(list(prometheus.get("ports"))).anyMatch(p -> p.endsWith(":9090"));
        Map<String, Object> provider = map(((List<Object>) yaml("docker/grafana/provisioning/dashboards/imsrc.yml")
                .get("providers")).get(0));
        assertThat(map(provider.get("options"))).containsEntry("path", dashboards);
        JsonNode dashboard = new ObjectMapper().readTree(DashboardQueries.DASHBOARD.toFile());
        assertThat(environment(grafana)).containsEntry("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH",
                dashboards + "/" + DashboardQueries.DASHBOARD.getFileName());
        List<String> sources = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            if (!panel.get("type").asText().equals("row")) {
                sources.add(panel.get("datasource").get("uid").asText());
                panel.get("targets").forEach(t -> sources.add(t.get("datasource").get("uid").asText()));
            }
        }
        assertThat(sources).isNotEmpty().containsOnly((String) datasource.get("uid"));
        assertThat(dashboard.get("uid").asText()).isEqualTo("imsrc");
    }

    @Test
    void the_dashboard_queries_are_read_for_the_metrics_and_labels_they_name() throws Exception {
        var quantile = DashboardQueries.names("histogram_quantile(0.95, sum by (route, le) "
                + "(rate(imsrc_http_request_duration_seconds_bucket{route=~\"/search|/images/\\\\{id\\\\}/similar\"}"
                + "[$__rate_interval])))");
        assertThat(quantile.metrics()).containsExactly("imsrc_http_request_duration_seconds_bucket");
        assertThat(quantile.labels()).containsExactlyInAnyOrder("route", "le");
        var sum = DashboardQueries.names("sum(rate(a_total[5m] offset 1h)) * 1e3 + on (job) "
                + "max without (instance) (flink_x{quantile=\"0.5\", b!=\"c\"}) / ignoring(d) c:recorded");
        assertThat(sum.metrics()).containsExactlyInAnyOrder("a_total", "flink_x", "c:recorded");
        assertThat(sum.labels()).containsExactlyInAnyOrder("job", "instance", "quantile", "b", "d");

        Map<String, Set<String>> exported = DashboardQueries.exposition("""
                # HELP imsrc_index_ready 1 when an index is loaded
                # TYPE imsrc_index_ready gauge
                imsrc_index_ready 1.0
                flink_taskmanager_job_task_operator_batchSize{job_name="imsrc_ingest",quantile="0.5",} 8.0
                imsrc_http_requests_total{method="GET",route="/a \\"b\\"",status="200"} 3
                """);
        assertThat(exported).containsOnlyKeys("imsrc_index_ready", "flink_taskmanager_job_task_operator_batchSize",
                "imsrc_http_requests_total");
        assertThat(exported.get("flink_taskmanager_job_task_operator_batchSize")).containsExactly("job_name", "quantile");
        assertThat(exported.get("imsrc_http_requests_total")).containsExactly("method", "route", "status");

        // Every query of the dashboard names a metric of imsrc's or Flink's (DashboardMetricsITCase
        // checks them against what a running server and Flink's reporter export).
        List<DashboardQueries.Query> queries = DashboardQueries.queries(DashboardQueries.DASHBOARD);
        assertThat(queries).isNotEmpty().allSatisfy(q -> assertThat(DashboardQueries.names(q.expr()).metrics())
                .as(q.expr()).isNotEmpty()
                .allMatch(n -> n.matches("(imsrc|jvm|process|flink_jobmanager|flink_taskmanager)_\\w+")));
    }
}
