package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
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
                "query-server");
        for (String name : List.of("postgres", "kafka", "jobmanager", "query-server")) {
            assertThat(map(services.get(name)).get("healthcheck")).as(name + " has a health check").isNotNull();
        }
        assertThat(map(services.get("submit-job")).get("restart")).as("the submitter is a one-shot").isEqualTo("no");
        assertThat(environment(map(services.get("submit-job")))).containsEntry("FLINK_REST_URL", "http://jobmanager:8081");
        assertThat((List<Object>) map(services.get("submit-job")).get("command")).contains("ingest");
        assertThat((List<Object>) map(services.get("query-server")).get("command")).containsExactly("serve");
        assertThat(map(services.get("jobmanager")).get("ports").toString()).contains(":8081");
        assertThat(map(services.get("query-server")).get("ports").toString()).contains(":8000");
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
            assertThat(image).as(entry.getKey() + "'s image").isNotNull().matches(".+:[\\w.-]+");
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
}
