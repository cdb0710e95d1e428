package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;

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
}
