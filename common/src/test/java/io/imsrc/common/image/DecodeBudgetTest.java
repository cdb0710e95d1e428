package io.imsrc.common.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.testing.TestImages;
import io.imsrc.testing.Waiting;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DecodeBudgetTest {

    private static final Duration NO_WAIT = Duration.ZERO;
    private static final Duration LONG = Duration.ofMinutes(2);

    @Test
    void permits_are_taken_up_to_the_capacity_and_given_back_once() {
        DecodeBudget budget = new DecodeBudget(100);
        DecodeBudget.Permit a = budget.acquire(60, NO_WAIT);
        DecodeBudget.Permit b = budget.acquire(40, NO_WAIT);
        assertThat(budget.inUse()).isEqualTo(100);

        assertThatThrownBy(() -> budget.acquire(1, NO_WAIT)).isInstanceOf(DecodeBusyException.class)
                .hasMessageContaining("100 of the decode budget's 100 pixels are in use");

        a.close();
        a.close();
        assertThat(budget.inUse()).isEqualTo(40);
        b.close();
        assertThat(budget.inUse()).isZero();
    }

    @Test
    void an_image_larger_than_the_budget_takes_all_of_it_and_decodes_alone() {
        DecodeBudget budget = new DecodeBudget(100);
        try (DecodeBudget.Permit permit = budget.acquire(1_000, NO_WAIT)) {
            assertThat(permit.pixels()).isEqualTo(100);
            assertThatThrownBy(() -> budget.acquire(1, NO_WAIT)).isInstanceOf(DecodeBusyException.class);
        }
        assertThat(budget.inUse()).isZero();
    }

    @Test
    void a_waiting_decode_goes_on_when_room_is_given_back() throws Exception {
        DecodeBudget budget = new DecodeBudget(100);
        DecodeBudget.Permit held = budget.acquire(100, NO_WAIT);
        CompletableFuture<DecodeBudget.Permit> waiting = waitingFor(budget, 50);
        assertThat(waiting).isNotDone();

        held.close();

        DecodeBudget.Permit permit = waiting.get(1, TimeUnit.MINUTES);
        assertThat(budget.inUse()).isEqualTo(50);
        permit.close();
    }

    @Test
    void waiters_are_served_in_arrival_order_so_a_large_image_is_not_starved() throws Exception {
        DecodeBudget budget = new DecodeBudget(100);
        DecodeBudget.Permit held = budget.acquire(30, NO_WAIT);
        CompletableFuture<DecodeBudget.Permit> large = waitingFor(budget, 100);

        // 70 pixels are free, but the large image is first in line.
        assertThatThrownBy(() -> budget.acquire(10, NO_WAIT)).isInstanceOf(DecodeBusyException.class);

        held.close();
        large.get(1, TimeUnit.MINUTES).close();
        budget.acquire(10, NO_WAIT).close();
    }

    @Test
    void a_capacity_raised_while_a_decode_waits_lets_it_go_on() throws Exception {
        DecodeBudget budget = new DecodeBudget(10);
        DecodeBudget.Permit held = budget.acquire(10, NO_WAIT);
        CompletableFuture<DecodeBudget.Permit> waiting = waitingFor(budget, 5);

        budget.setCapacity(15);

        waiting.get(1, TimeUnit.MINUTES).close();
        held.close();
        assertThat(budget.inUse()).isZero();
    }

    @Test
    void a_decode_with_no_room_in_its_budget_fails_busy_and_succeeds_once_there_is() throws Exception {
        DecodeBudget budget = new DecodeBudget(10_000);
        ImageDecodeOptions options = ImageDecodeOptions.defaults().withBudget(budget, NO_WAIT);
        byte[] png = TestImages.encode(TestImages.noise(100, 50, 1), "png");

        try (DecodeBudget.Permit others = budget.acquire(9_000, NO_WAIT)) {
            assertThatThrownBy(() -> ImageDecoder.decode(png, options)).isInstanceOf(DecodeBusyException.class)
                    .hasMessageContaining("5000 pixels");
            // The header is still read without the budget: a refusal costs nothing.
            assertThat(ImageDecoder.probe(png, options).width()).isEqualTo(100);
        }

        assertThat(ImageDecoder.decode(png, options).width()).isEqualTo(100);
        assertThat(budget.inUse()).isZero();
    }

    @Test
    void a_refused_image_gives_its_permit_back() throws Exception {
        DecodeBudget budget = new DecodeBudget(10_000);
        ImageDecodeOptions options = ImageDecodeOptions.defaults().withBudget(budget, NO_WAIT);
        byte[] png = TestImages.encode(TestImages.noise(64, 48, 2), "png");
        byte[] corrupt = png.clone();
        for (int i = 60; i < 120; i++) {
            corrupt[i] = (byte) 0xA5;
        }

        assertThatThrownBy(() -> ImageDecoder.decode(corrupt, options)).isInstanceOf(InvalidImageException.class);

        assertThat(budget.inUse()).isZero();
    }

    /** A decode that asks {@code budget} for {@code pixels} on another thread, once it waits in line. */
    private static CompletableFuture<DecodeBudget.Permit> waitingFor(DecodeBudget budget, long pixels) throws Exception {
        CompletableFuture<DecodeBudget.Permit> waiting = CompletableFuture.supplyAsync(() -> budget.acquire(pixels, LONG));
        awaitWaiters(budget, 1);
        return waiting;
    }

    private static void awaitWaiters(DecodeBudget budget, int count) throws Exception {
        Waiting.until(() -> budget.waiters() >= count, count + " waiters", Duration.ofMinutes(1));
    }
}
