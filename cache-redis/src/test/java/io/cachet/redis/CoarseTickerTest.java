package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * The near stores' sampled clock: follows the system clock from behind, survives interrupts, parks
 * while nobody reads it, and stops when closed.
 */
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
  void anInterrupt_neitherStopsTheClockNorMakesItSpin() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (CoarseTicker ticker = new CoarseTicker("test")) {
      Thread thread = ticker.threadForTest();
      thread.interrupt();
      long cpuBefore = threads.getThreadCpuTime(thread.getId());
      long wallBefore = System.nanoTime();
      long reading = ticker.read();
      await().atMost(DEADLINE).until(() -> ticker.read() - reading > TimeUnit.MILLISECONDS.toNanos(100));
      long wall = System.nanoTime() - wallBefore;
      long cpu = threads.getThreadCpuTime(thread.getId()) - cpuBefore;
      // Parking once a millisecond costs a few percent of one CPU; a thread whose park returns at
      // once uses all it is given.
      assertThat(cpu).as("CPU ns of the clock thread over %d ns", wall).isLessThan(wall / 4);
      assertThat(thread.isAlive()).isTrue();
    }
  }

  @Test
  void withoutReaders_theThreadParks_andTheFirstReadingAfterIsCurrent() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (CoarseTicker ticker = new CoarseTicker("test", 5)) {
      await().atMost(DEADLINE).until(() -> ticker.stateForTest() == CoarseTicker.IDLE);
      long cpuBefore = threads.getThreadCpuTime(ticker.threadForTest().getId());
      pause(TimeUnit.MILLISECONDS.toNanos(50)); // the last sample is now at least 50 ms old
      long cpu = threads.getThreadCpuTime(ticker.threadForTest().getId()) - cpuBefore;
      assertThat(cpu).as("CPU ns of the idle clock thread over 50 ms").isLessThan(TimeUnit.MILLISECONDS.toNanos(2));
      long before = System.nanoTime();
      assertThat(ticker.read() - before).as("the reading that wakes the clock is current").isGreaterThanOrEqualTo(0);
      await().atMost(DEADLINE).until(() -> ticker.stateForTest() == CoarseTicker.RUNNING
          || ticker.stateForTest() == CoarseTicker.IDLE);
      long after = System.nanoTime();
      assertThat(ticker.read() - before).as("never behind the wake-up").isGreaterThanOrEqualTo(0);
      assertThat(ticker.read() - System.nanoTime()).as("never ahead").isLessThanOrEqualTo(0);
      assertThat(after).isGreaterThanOrEqualTo(before);
    }
  }

  /**
   * Readers waking the clock while it keeps going idle (every tick) and while it is closed: every
   * reading stays behind the system clock, and close always ends the thread.
   */
  @Test
  void wakeUpsRacingIdleAndClose_neverAheadAndTheThreadAlwaysEnds() throws Exception {
    for (int round = 0; round < 100; round++) {
      CoarseTicker ticker = new CoarseTicker("race", 1);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<String> violation = new AtomicReference<>();
      Thread[] readers = new Thread[2];
      for (int r = 0; r < readers.length; r++) {
        readers[r] = new Thread(() -> {
          while (!stop.get()) {
            long reading = ticker.read();
            long system = System.nanoTime();
            if (reading - system > 0) {
              violation.compareAndSet(null, "reading " + reading + " ahead of " + system);
            }
          }
        });
        readers[r].start();
      }
      pause(TimeUnit.MICROSECONDS.toNanos(200 + 50 * round));
      ticker.close();
      pause(TimeUnit.MICROSECONDS.toNanos(200));
      stop.set(true);
      for (Thread reader : readers) {
        reader.join(DEADLINE.toMillis());
      }
      ticker.threadForTest().join(DEADLINE.toMillis());
      assertThat(ticker.stopped()).as("round %d: the clock thread ended", round).isTrue();
      assertThat(violation.get()).isNull();
      assertThat(ticker.stateForTest()).isEqualTo(CoarseTicker.CLOSED);
    }
  }

  /**
   * A reader that wakes the idle clock and stalls before it writes the time: meanwhile another
   * reader finds the clock idle too, or not. Whatever it finds, the sampled time never goes back.
   */
  @Test
  void aWakerStalledWhileOthersWakeTheClock_neverMovesItBack() throws Exception {
    AtomicLong time = new AtomicLong(1_000);
    CountDownLatch stalled = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    AtomicBoolean clockThreadHeld = new AtomicBoolean();
    Thread[] waker = new Thread[1];
    AtomicBoolean wakerStalls = new AtomicBoolean(true);
    LongSupplier clock = () -> {
      long now = time.get();
      if (Thread.currentThread() == waker[0] && wakerStalls.compareAndSet(true, false)) {
        stalled.countDown(); // between reading the time and writing it, or before reading it
        awaitLatch(resume);
      }
      while (clockThreadHeld.get() && Thread.currentThread().getName().startsWith("cachet-redis-clock-")) {
        Thread.onSpinWait();
      }
      return now;
    };
    try (CoarseTicker ticker = new CoarseTicker("stall", 2, clock)) {
      await().atMost(DEADLINE).until(() -> ticker.stateForTest() == CoarseTicker.IDLE);
      long highest = ticker.nowForTest();
      waker[0] = new Thread(ticker::read, "stalled-waker");
      waker[0].start();
      assertThat(stalled.await(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

      time.set(5_000);
      ticker.read(); // another reader: wakes the clock if it is still idle
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      while (System.nanoTime() - until < 0) { // the clock runs its ticks and goes idle again, if it can
        long now = ticker.nowForTest();
        assertThat(now).as("sampled time").isGreaterThanOrEqualTo(highest);
        highest = now;
        Thread.onSpinWait();
      }
      clockThreadHeld.set(true); // the clock thread writes nothing from here
      resume.countDown();
      waker[0].join(DEADLINE.toMillis());
      assertThat(ticker.nowForTest()).as("sampled time after the stalled waker wrote").isGreaterThanOrEqualTo(highest);
      clockThreadHeld.set(false);
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void close_endsTheThread_andReadingsFollowTheSystemClock() {
    CoarseTicker ticker = new CoarseTicker("test");
    assertThat(ticker.stopped()).isFalse();
    ticker.close();
    await().atMost(DEADLINE).until(ticker::stopped);
    long before = System.nanoTime();
    assertThat(ticker.read() - before).isGreaterThanOrEqualTo(0);
  }

  private static void pause(long nanos) {
    long until = System.nanoTime() + nanos;
    while (System.nanoTime() - until < 0) {
      Thread.onSpinWait();
    }
  }
}
