package io.imsrc.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloseablesTest {

    @Test
    void every_resource_is_closed_in_order_and_the_first_failure_carries_the_others() {
        List<String> closed = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("first");
        assertThatThrownBy(() -> Closeables.closeAll(
                () -> closed.add("a"),
                () -> {
                    closed.add("b");
                    throw first;
                },
                null,
                () -> {
                    closed.add("c");
                    throw new IOException("second");
                },
                () -> closed.add("d")))
                .isSameAs(first)
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                        .satisfies(s -> assertThat(s).hasRootCauseMessage("second")));
        assertThat(closed).containsExactly("a", "b", "c", "d");
    }

    @Test
    void nothing_is_thrown_when_every_close_succeeds() {
        List<String> closed = new ArrayList<>();
        Closeables.closeAll(List.of(() -> closed.add("x"), () -> closed.add("y")));
        assertThat(closed).containsExactly("x", "y");
    }

    @Test
    void the_checked_variant_throws_the_first_failure_unwrapped() {
        IOException first = new IOException("first");
        List<String> closed = new ArrayList<>();
        assertThatThrownBy(() -> Closeables.closeAllChecked(() -> {
            throw first;
        }, () -> {
            closed.add("second");
            throw new IllegalStateException("second");
        })).isSameAs(first).satisfies(e -> assertThat(e.getSuppressed()).hasSize(1));
        assertThat(closed).containsExactly("second");
    }
}
