package io.imsrc.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FuturesTest {

    @Test
    void the_cause_is_the_tasks_failure_or_the_exception_itself_without_one() {
        IOException io = new IOException("disk");
        assertThat(Futures.cause(new ExecutionException(io))).isSameAs(io);
        ExecutionException bare = new ExecutionException("no cause", null);
        assertThat(Futures.cause(bare)).isSameAs(bare);
    }

    @Test
    void unchecked_failures_are_rethrown_the_callers_own_kept_and_others_wrapped() {
        IllegalStateException unchecked = new IllegalStateException("bug");
        assertThatThrownBy(() -> Futures.failure(new ExecutionException(unchecked), IOException.class, IOException::new))
                .isSameAs(unchecked);
        IOException own = new IOException("disk");
        assertThat(Futures.failure(new ExecutionException(own), IOException.class, IOException::new)).isSameAs(own);
        Exception other = new Exception("other");
        assertThat(Futures.failure(new ExecutionException(other), IOException.class, IOException::new))
                .isInstanceOf(IOException.class).hasCause(other);
    }
}
