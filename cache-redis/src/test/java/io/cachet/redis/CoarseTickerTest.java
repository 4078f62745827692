package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The near stores' sampled clock: follows the system clock from behind, and stops when closed. */
final class CoarseTickerTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);

  @Test
  void readings_neverAheadOfTheSystemClock_neverBackwards_andTheyAdvance() {
    try (CoarseTicker ticker = new CoarseTicker("test")) {
      long first = ticker.read();
      long previous = first;
      long target = first + TimeUnit.MILLISECONDS.toNanos(20);
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (previous - target < 0) {
        long reading = ticker.read();
        long system = System.nanoTime();
        assertThat(reading - system).as("ahead of System.nanoTime()").isLessThanOrEqualTo(0);
        assertThat(reading - previous).as("went backwards").isGreaterThanOrEqualTo(0);
        assertThat(system - deadline).as("the reading did not advance 20 ms within " + DEADLINE).isLessThan(0);
        previous = reading;
        Thread.onSpinWait();
      }
    }
  }

  @Test
  void close_endsTheThread_andTheReadingStops() {
    CoarseTicker ticker = new CoarseTicker("test");
    assertThat(ticker.stopped()).isFalse();
    ticker.close();
    await().atMost(DEADLINE).until(ticker::stopped);
    long frozen = ticker.read();
    long later = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
    while (System.nanoTime() - later < 0) {
      Thread.onSpinWait();
    }
    assertThat(ticker.read()).isEqualTo(frozen);
  }
}
