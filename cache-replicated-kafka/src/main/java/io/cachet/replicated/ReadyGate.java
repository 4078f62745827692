package io.cachet.replicated;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * What threads waiting for a replica to be ready ({@code awaitReady}) wait on: open once the
 * replica is ready, or failed or closing; closed again by a pause or a rebuild. Closing wakes the
 * threads waiting on the gate as it was, and they wait again on the new one, so that a waiter
 * never sleeps through a readiness it was not woken for. The apply thread opens and closes it;
 * any thread waits.
 */
final class ReadyGate {

  /** How long a waiter that finds the gate open but the replica not ready parks before it looks again. */
  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private volatile CountDownLatch latch = new CountDownLatch(1);

  /** Opens the gate: the waiters look at the replica, and return if {@code done} says so. */
  void open() {
    latch.countDown();
  }

  /** Whether the gate is open. */
  boolean isOpen() {
    return latch.getCount() == 0;
  }

  /** Closes the gate, waking the threads that wait on it as it was: they wait again on this one. */
  void close() {
    CountDownLatch old = latch;
    latch = new CountDownLatch(1);
    old.countDown();
  }

  /**
   * Waits until {@code done} holds or {@code deadline} ({@code System.nanoTime()}) passes. {@code
   * done} is asked whenever the gate opens or is replaced; while it is open and {@code done} does
   * not hold yet (the apply thread has not closed it after a pause), every {@value #RECHECK_NANOS}
   * ns.
   */
  void await(long deadline, BooleanSupplier done) throws InterruptedException {
    while (true) {
      CountDownLatch waitedOn = latch;
      long remaining = deadline - System.nanoTime();
      if (!waitedOn.await(Math.max(0, remaining), TimeUnit.NANOSECONDS) || done.getAsBoolean()
          || deadline - System.nanoTime() <= 0) {
        return;
      }
      if (waitedOn == latch) {
        LockSupport.parkNanos(Math.min(deadline - System.nanoTime(), RECHECK_NANOS));
      }
    }
  }
}
