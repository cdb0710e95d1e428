package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.common.config.ImsrcConfig.ApiConfig;
import org.junit.jupiter.api.Test;

class QueryServerTest {

    @Test
    void only_loopback_addresses_count_as_serving_this_machine_alone() {
        assertThat(QueryServer.isLoopback("127.0.0.1")).isTrue();
        assertThat(QueryServer.isLoopback("localhost")).isTrue();
        assertThat(QueryServer.isLoopback("::1")).isTrue();
        assertThat(QueryServer.isLoopback("0.0.0.0")).as("every address").isFalse();
        assertThat(QueryServer.isLoopback("::")).as("every address").isFalse();
        assertThat(QueryServer.isLoopback("no-such-host.invalid")).isFalse();
    }

    @Test
    void automatic_intra_op_threads_leave_one_core_to_the_request_threads() {
        assertThat(QueryServerOptions.intraOpThreads(ApiConfig.AUTO, 1, 2)).isEqualTo(1);
        assertThat(QueryServerOptions.intraOpThreads(ApiConfig.AUTO, 1, 16)).isEqualTo(15);
        assertThat(QueryServerOptions.intraOpThreads(ApiConfig.AUTO, 2, 9)).isEqualTo(4);
        assertThat(QueryServerOptions.intraOpThreads(ApiConfig.AUTO, 1, 1)).as("at least one").isEqualTo(1);
        assertThat(QueryServerOptions.intraOpThreads(ApiConfig.AUTO, 4, 2)).as("at least one").isEqualTo(1);
    }

    @Test
    void configured_intra_op_threads_are_taken_as_given() {
        assertThat(QueryServerOptions.intraOpThreads(2, 1, 2)).isEqualTo(2);
        assertThat(QueryServerOptions.intraOpThreads(3, 4, 2)).isEqualTo(3);
    }
}
