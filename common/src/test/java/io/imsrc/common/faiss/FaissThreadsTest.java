package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FaissThreadsTest {

    @Test
    void the_thread_count_set_on_one_thread_does_not_change_other_threads() throws Exception {
        AtomicInteger before = new AtomicInteger();
        AtomicInteger setter = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();

        runInNewThread(() -> before.set(FaissThreads.maxThreads()));
        runInNewThread(() -> {
            FaissThreads.setNumThreads(before.get() + 1);
            setter.set(FaissThreads.maxThreads());
        });
        runInNewThread(() -> other.set(FaissThreads.maxThreads()));

        assertThat(setter.get()).isEqualTo(before.get() + 1);
        assertThat(other.get()).isEqualTo(before.get());
    }

    @Test
    void the_openblas_thread_count_round_trips() {
        int before = FaissThreads.blasThreads();
        try {
            FaissThreads.setBlasThreads(1);

            assertThat(FaissThreads.blasThreads()).isEqualTo(1);
        } finally {
            FaissThreads.setBlasThreads(before);
        }
    }

    @Test
    void a_thread_count_below_one_is_rejected() {
        assertThatThrownBy(() -> FaissThreads.setNumThreads(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaissThreads.setBlasThreads(0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void runInNewThread(Runnable action) throws InterruptedException {
        Thread thread = new Thread(action);
        thread.start();
        thread.join();
    }
}
