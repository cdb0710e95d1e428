package io.imsrc.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.embed.Device;
import io.imsrc.common.embed.EmbedderOptions;
import io.imsrc.common.faiss.IndexType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImsrcConfigTest {

    @TempDir Path temp;

    @Test
    void an_empty_environment_gives_the_documented_defaults() {
        ImsrcConfig c = ImsrcConfig.from(Settings.of(Map.of()));

        assertThat(c.database().embedded()).isTrue();
        assertThat(c.database().port()).isEqualTo(5432);
        assertThat(c.database().name()).isEqualTo("imsrc");
        assertThat(c.database().user()).isEqualTo("postgres");
        assertThat(c.database().password()).isNull();
        assertThat(c.database().timeouts()).isEqualTo(ImsrcConfig.DatabaseTimeouts.DEFAULTS);
        assertThat(c.database().timeouts().connect()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.database().timeouts().socket()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.database().timeouts().statement()).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.model().name()).isEqualTo("imsrc-resnet20-cifar10");
        assertThat(c.model().path()).isNull();
        assertThat(c.model().device()).isEqualTo(Device.AUTO);
        assertThat(c.faiss().indexPath()).isEqualTo(Path.of("./data/faiss_index.bin"));
        assertThat(c.faiss().indexType()).isEqualTo(IndexType.AUTO);
        assertThat(c.search().useProtoFiltering()).isTrue();
        assertThat(c.search().maxUploadSize()).isEqualTo(10_485_760L);
        assertThat(c.search().defaultLimit()).isEqualTo(10);
        assertThat(c.search().searchThreads()).isEqualTo(ImsrcConfig.ApiConfig.AUTO);
        assertThat(c.search().effectiveSearchThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.api().host()).isEqualTo("127.0.0.1");
        assertThat(c.api().port()).isEqualTo(8000);
        assertThat(c.api().token()).isNull();
        assertThat(c.api().searchRequiresToken()).isFalse();
        assertThat(c.api().embedThreads()).isEqualTo(ImsrcConfig.ApiConfig.AUTO);
        assertThat(c.api().intraOpThreads()).isEqualTo(ImsrcConfig.ApiConfig.AUTO);
        assertThat(c.api().queryBatchSize()).isEqualTo(8);
        assertThat(c.api().allowedOrigins()).isEmpty();
        assertThat(c.api().requestBodyTimeoutMs()).isEqualTo(60_000);
        assertThat(c.api().requestSpoolDir()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")));
        assertThat(c.model().maxImagePixels()).isEqualTo(40_000_000L);
        assertThat(c.model().decodeBudgetPixels()).isEqualTo(48_000_000L);
        assertThat(c.kafka().embedded()).isTrue();
        assertThat(c.kafka().uploadsTopic()).isEqualTo("imsrc.uploads");
        assertThat(c.batch().batchSize()).isEqualTo(EmbedderOptions.DEFAULT_BATCH_SIZE);
        assertThat(c.batch().maxDelayMs()).isEqualTo(50);
        assertThat(c.indexRefresh().intervalMs()).isEqualTo(500);
        assertThat(c.dataDir()).isEqualTo(Path.of("./data"));
        assertThat(c.flink().stateBackend()).as("unset: a cluster's own configuration decides").isNull();
        assertThat(c.flink().localStateBackend()).isEqualTo(ImsrcConfig.FlinkConfig.StateBackend.ROCKSDB);
        assertThat(c.cifar10Source()).isEqualTo(ImsrcConfig.CIFAR10_OFFICIAL_URL + "#train");
        assertThat(c.flink().restUrl()).isNull();
        assertThat(c.flink().parallelism()).isEqualTo(ImsrcConfig.FlinkConfig.AUTO_PARALLELISM);
        assertThat(c.flink().localParallelism(8)).as("auto: a subtask per core").isEqualTo(8);
        assertThat(c.flink().checkpointIntervalMs()).isEqualTo(10_000);
        assertThat(c.flink().webPort()).isEqualTo(8081);
        assertThat(c.uploads().publishDeadlineMs()).isEqualTo(300_000);
        assertThat(c.uploads().ingestDeadlineMs()).isEqualTo(604_800_000L);
    }

    @Test
    void set_values_are_read_with_their_types() {
        ImsrcConfig c = ImsrcConfig.from(Settings.of(Map.ofEntries(
                Map.entry("DB_HOST", "db.internal"),
                Map.entry("DB_PORT", "6543"),
                Map.entry("DB_PASSWORD", "s3cret"),
                Map.entry("DB_CONNECT_TIMEOUT_MS", "2500"),
                Map.entry("DB_SOCKET_TIMEOUT_MS", "0"),
                Map.entry("DB_STATEMENT_TIMEOUT_MS", "750"),
                Map.entry("DEVICE", "CPU"),
                Map.entry("FAISS_INDEX_TYPE", "hnsw"),
                Map.entry("USE_PROTOTYPE_FILTERING", "no"),
                Map.entry("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092"),
                Map.entry("BATCH_SIZE", "64"),
                Map.entry("DATA_DIR", "/var/lib/imsrc"),
                Map.entry("FLINK_REST_URL", "http://jobmanager:8081"),
                Map.entry("CHECKPOINT_INTERVAL_MS", "0"),
                Map.entry("FLINK_WEB_PORT", "0"),
                Map.entry("FLINK_PARALLELISM", "3"),
                Map.entry("UPLOAD_PUBLISH_DEADLINE_MS", "60000"),
                Map.entry("UPLOAD_INGEST_DEADLINE_MS", "86400000"))));

        assertThat(c.database().jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6543/imsrc");
        assertThat(c.database().toString()).doesNotContain("s3cret");
        assertThat(c.database().timeouts()).isEqualTo(new ImsrcConfig.DatabaseTimeouts(
                Duration.ofMillis(2500), Duration.ZERO, Duration.ofMillis(750)));
        assertThat(c.model().device()).isEqualTo(Device.CPU);
        assertThat(c.faiss().indexType()).isEqualTo(IndexType.HNSW);
        assertThat(c.faiss().indexPath()).as("follows DATA_DIR").isEqualTo(Path.of("/var/lib/imsrc/faiss_index.bin"));
        assertThat(c.search().useProtoFiltering()).isFalse();
        assertThat(c.kafka().bootstrapServers()).isEqualTo("k1:9092,k2:9092");
        assertThat(c.batch().batchSize()).isEqualTo(64);
        assertThat(c.flink().restUrl()).isEqualTo("http://jobmanager:8081");
        assertThat(c.flink().checkpointIntervalMs()).isZero();
        assertThat(c.flink().webPort()).isZero();
        assertThat(c.flink().localParallelism(8)).isEqualTo(3);
        assertThat(c.uploads().publishDeadlineMs()).isEqualTo(60_000);
        assertThat(c.uploads().ingestDeadlineMs()).isEqualTo(86_400_000);
        assertThat(ImsrcConfig.from(Settings.of(Map.of("FLINK_PARALLELISM", "AUTO"))).flink().parallelism())
                .isEqualTo(ImsrcConfig.FlinkConfig.AUTO_PARALLELISM);
        ImsrcConfig.FlinkConfig hashmap = ImsrcConfig.from(Settings.of(Map.of("FLINK_STATE_BACKEND", "HashMap"))).flink();
        assertThat(hashmap.stateBackend()).isEqualTo(ImsrcConfig.FlinkConfig.StateBackend.HASHMAP);
        assertThat(hashmap.localStateBackend()).isEqualTo(ImsrcConfig.FlinkConfig.StateBackend.HASHMAP);
    }

    @Test
    void embedded_spelled_out_means_the_embedded_services() {
        ImsrcConfig c = ImsrcConfig.from(Settings.of(Map.of("DB_HOST", "embedded", "KAFKA_BOOTSTRAP_SERVERS", "embedded")));
        assertThat(c.database().embedded()).isTrue();
        assertThat(c.kafka().embedded()).isTrue();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "DB_PORT|abc|an integer from 1 to 65535",
            "DB_PORT|70000|an integer from 1 to 65535",
            "DEVICE|tpu|cuda",
            "FAISS_INDEX_TYPE|annoy|hnsw",
            "USE_PROTOTYPE_FILTERING|maybe|true or false",
            "MAX_UPLOAD_SIZE|-1|an integer from 1",
            "DEFAULT_SEARCH_LIMIT|51|an integer from 1 to 50",
            "API_PORT|http|an integer from 0 to 65535",
            "BATCH_SIZE|0|an integer from 1 to 4096",
            "BATCH_MAX_DELAY_MS|soon|an integer",
            "INDEX_REFRESH_MS|1|an integer from 10",
            "FLINK_WEB_PORT|99999|an integer from 0 to 65535",
            "FLINK_PARALLELISM|0|an integer from 1",
            "FLINK_STATE_BACKEND|memory|hashmap or rocksdb",
            "CHECKPOINT_INTERVAL_MS|5|0 (off) or at least 10 ms",
            "FLINK_REST_URL|jobmanager:8081|an http(s) URL",
            "CIFAR10_SOURCE|http://|an http(s) URL",
            "KAFKA_UPLOADS_TOPIC|bad topic|a name of letters",
            "DB_NAME|imsrc;drop|a database name",
            "DB_CONNECT_TIMEOUT_MS|0|an integer from 1000 to 600000",
            "DB_SOCKET_TIMEOUT_MS|500|0 (none) or from 1000 to 3600000",
            "DB_SOCKET_TIMEOUT_MS|forever|an integer from 0 to 3600000",
            "DB_STATEMENT_TIMEOUT_MS|-1|an integer from 0 to 3600000",
            "DB_STATEMENT_TIMEOUT_MS|30000|a value below DB_SOCKET_TIMEOUT_MS (30000)",
            "SEARCH_REQUIRES_TOKEN|true|false unless API_TOKEN is set",
            "QUERY_EMBED_THREADS|none|an integer from 1 to 64",
            "QUERY_INTRA_OP_THREADS|0|an integer from 1 to 64",
            "QUERY_BATCH_SIZE|0|an integer from 1 to 64",
            "SEARCH_THREADS|0|an integer from 1 to 256",
            "UPLOAD_PUBLISH_DEADLINE_MS|1000|an integer from 60000 to 86400000",
            "UPLOAD_INGEST_DEADLINE_MS|forever|an integer from 60000",
            "API_ALLOWED_ORIGINS|https://example.org/upload|comma-separated origins",
            "API_ALLOWED_ORIGINS|example.org|comma-separated origins",
            "REQUEST_BODY_TIMEOUT_MS|10|an integer from 1000",
            "DECODE_BUDGET_PIXELS|0|an integer from 1",
    })
    void a_bad_value_is_refused_naming_the_variable_and_what_it_accepts(String name, String value, String accepts) {
        assertThatThrownBy(() -> ImsrcConfig.from(Settings.of(Map.of(name, value))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(name)
                .hasMessageContaining(accepts);
    }

    @Test
    void the_query_servers_settings_are_read() {
        ImsrcConfig c = ImsrcConfig.from(Settings.of(Map.of("API_TOKEN", "t0ken", "SEARCH_REQUIRES_TOKEN", "yes",
                "QUERY_EMBED_THREADS", "3", "QUERY_INTRA_OP_THREADS", "2", "QUERY_BATCH_SIZE", "1", "SEARCH_THREADS", "1")));
        assertThat(c.api().token()).isEqualTo("t0ken");
        assertThat(c.api().searchRequiresToken()).isTrue();
        assertThat(c.api().embedThreads()).isEqualTo(3);
        assertThat(c.api().intraOpThreads()).isEqualTo(2);
        assertThat(c.api().queryBatchSize()).isEqualTo(1);
        assertThat(c.search().effectiveSearchThreads()).isEqualTo(1);
        assertThat(c.api().toString()).doesNotContain("t0ken");
    }

    @Test
    void the_hardening_settings_are_read() {
        ImsrcConfig c = ImsrcConfig.from(Settings.of(Map.of("API_ALLOWED_ORIGINS",
                "https://tools.example.org, http://localhost:3000", "REQUEST_BODY_TIMEOUT_MS", "5000",
                "DECODE_BUDGET_PIXELS", "1000000", "REQUEST_SPOOL_DIR", "/srv/imsrc/spool")));
        assertThat(c.api().allowedOrigins()).containsExactly("https://tools.example.org", "http://localhost:3000");
        assertThat(c.api().requestBodyTimeoutMs()).isEqualTo(5000);
        assertThat(c.api().requestSpoolDir()).isEqualTo(Path.of("/srv/imsrc/spool"));
        assertThat(c.model().decodeBudgetPixels()).isEqualTo(1_000_000);
        assertThat(ImsrcConfig.from(Settings.of(Map.of("API_ALLOWED_ORIGINS", "*"))).api().allowedOrigins())
                .containsExactly("*");
    }

    @Test
    void every_bad_value_is_reported_at_once() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ImsrcConfig.from(Settings.of(Map.of("DB_PORT", "x", "API_PORT", "y", "DEVICE", "z"))));
        assertThat(e.problems()).hasSize(3);
        assertThat(e.getMessage()).contains("DB_PORT", "API_PORT", "DEVICE");
    }

    @Test
    void a_dotenv_file_supplies_values_and_the_environment_overrides_it() throws Exception {
        Path env = temp.resolve(".env");
        Files.writeString(env, """
                # imsrc settings
                export BATCH_SIZE=16
                API_PORT="9000"
                MODEL_NAME='resnet56-cifar10'   
                DEFAULT_SEARCH_LIMIT=20 # more results

                """);
        ImsrcConfig c = ImsrcConfig.from(Settings.fromEnvironment(Map.of("API_PORT", "9100"), env));
        assertThat(c.batch().batchSize()).isEqualTo(16);
        assertThat(c.model().name()).isEqualTo("resnet56-cifar10");
        assertThat(c.search().defaultLimit()).isEqualTo(20);
        assertThat(c.api().port()).isEqualTo(9100);
    }

    @Test
    void a_missing_dotenv_file_is_fine_and_a_malformed_one_names_the_line() throws Exception {
        assertThat(ImsrcConfig.from(Settings.fromEnvironment(Map.of(), temp.resolve("absent.env"))).api().port())
                .isEqualTo(8000);
        Path env = temp.resolve("bad.env");
        Files.writeString(env, "API_PORT=1\nthis is not a setting\n");
        assertThatThrownBy(() -> Settings.fromEnvironment(Map.of(), env))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("line 2");
    }
}
