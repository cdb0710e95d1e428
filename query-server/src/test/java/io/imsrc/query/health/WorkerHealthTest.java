package io.imsrc.query.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class WorkerHealthTest {

    private final RecordingLogger log = new RecordingLogger();
    private final WorkerHealth health = new WorkerHealth("index refresh", "searches use the index as it is", log);

    @Test
    void a_healthy_worker_has_no_problem() {
        assertThat(health.problem()).isEmpty();
        assertThat(health.failure()).isEmpty();
        assertThat(health.name()).isEqualTo("index_refresh");
    }

    @Test
    void a_failure_is_the_problem_until_a_success_and_the_recovery_is_logged() {
        health.failed(new SQLException("Connection refused"));

        assertThat(health.problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith("index refresh failing for 0 s (1 try): Connection refused")
                .endsWith("; searches use the index as it is"));
        assertThat(health.failure()).contains("Connection refused");

        health.succeeded();

        assertThat(health.problem()).isEmpty();
        assertThat(log.at(Level.INFO)).singleElement()
                .satisfies(e -> assertThat(e.message()).startsWith("Index refresh works again after 1 failed tries"));
    }

    @Test
    void the_same_failure_is_logged_once_however_its_numbers_change_and_a_new_one_again() {
        for (int i = 0; i < 5; i++) {
            health.failed(new SQLException("request timed out after " + (5000 + i) + "ms",
                    new ConnectException("Connection refused")));
        }
        health.failed(new SQLException("FATAL: the database system is starting up"));

        List<String> warnings = log.at(Level.WARN).stream().map(RecordingLogger.Entry::message).toList();
        assertThat(warnings).hasSize(2);
        assertThat(warnings.get(0)).contains("request timed out after 5000ms (Connection refused)");
        assertThat(warnings.get(1)).contains("the database system is starting up");
        assertThat(log.at(Level.DEBUG)).hasSize(4);
        assertThat(health.problem()).hasValueSatisfying(p -> assertThat(p).contains("(6 tries)"));
    }

    @Test
    void an_error_is_logged_with_its_stack_trace() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        health.failed(oom);
        assertThat(log.at(Level.ERROR)).singleElement().satisfies(e -> assertThat(e.thrown()).isSameAs(oom));
        assertThat(health.problem()).hasValueSatisfying(p -> assertThat(p).contains("Java heap space"));
    }

    @Test
    void the_backoff_doubles_to_five_seconds_and_starts_again_after_a_success() {
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            waits.add(health.failed(new SQLException("down")));
        }
        assertThat(waits).containsExactly(500L, 1_000L, 2_000L, 4_000L, 5_000L, 5_000L);
        health.succeeded();
        assertThat(health.failed(new SQLException("down"))).isEqualTo(500L);
    }
}
