package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Waiting for a replica to be ready across the pauses and rebuilds that close the gate again. */
final class ReadyGateTest {

  private static final long LONG_WAIT = TimeUnit.SECONDS.toNanos(30);

  /**
   * A rebuild closes the gate while a caller waits for the start-up replay: the caller must return
   * once the rebuilt replica is ready, not sleep on the gate it first found until its own timeout.
   */
  @Test
  void aWaiterOnAGateClosedAgain_returnsWhenItOpens() {
    ReadyGate gate = new ReadyGate();
    AtomicBoolean ready = new AtomicBoolean();
    AtomicReference<Thread> waiterThread = new AtomicReference<>();
    CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> {
      waiterThread.set(Thread.currentThread());
      long start = System.nanoTime();
      try {
        gate.await(start + LONG_WAIT, ready::get);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return System.nanoTime() - start;
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> waiterThread.get() != null
        && waiterThread.get().getState() == Thread.State.TIMED_WAITING);

    gate.close(); // a rebuild
    ready.set(true); // ... which has caught up
    gate.open();

    assertThat(waited).succeedsWithin(Duration.ofSeconds(5));
    assertThat(waited.join()).isLessThan(TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void anOpenGate_whileNotDone_isLookedAtAgainUntilDone() {
    ReadyGate gate = new ReadyGate();
    gate.open(); // open, but the replica not ready yet (a pause the apply thread has not seen)
    AtomicBoolean ready = new AtomicBoolean();
    CompletableFuture<Void> waited = CompletableFuture.runAsync(() -> {
      try {
        gate.await(System.nanoTime() + LONG_WAIT, ready::get);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(waited).isNotDone();
    ready.set(true);
    assertThat(waited).succeedsWithin(Duration.ofSeconds(5));
  }

  @Test
  void aGateNeverOpened_returnsAtTheDeadline() throws Exception {
    ReadyGate gate = new ReadyGate();
    long start = System.nanoTime();
    gate.await(start + TimeUnit.MILLISECONDS.toNanos(200), () -> true);
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    assertThat(gate.isOpen()).isFalse();
  }
}
