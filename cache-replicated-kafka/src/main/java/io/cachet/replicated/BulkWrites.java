package io.cachet.replicated;

import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Runs one write per item of a bulk operation ({@code putAll}, {@code clear}) on the calling
 * thread, with at most a bound of them started and not yet complete: the caller starts the next
 * write when one completes. Without the bound, a bulk operation over more keys than the send
 * queue holds ({@link Sender#MAX_QUEUED_RECORDS}) would queue them all at once, and every write
 * past the queue's bound would fail; with it, a bulk operation of any size leaves most of the
 * queue to the cache's other writers.
 *
 * <p>Writes start only on the caller's thread, never on the thread that completes one (the apply
 * thread, which must not encode and queue other writes), and never after {@link #run} has
 * returned or thrown: after the first failure, an interrupt or a stall, no further write starts.
 *
 * @param <T> the item type
 */
final class BulkWrites<T> {

  /** Writes of one bulk operation started and not yet complete, at most: a tenth of the send queue. */
  static final int MAX_IN_FLIGHT = Sender.MAX_QUEUED_RECORDS / 10;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition completion = lock.newCondition();
  // Guarded by lock.
  private int inFlight;
  private long completed;
  private @Nullable Throwable failure;

  private BulkWrites() {}

  /**
   * Starts {@code write} for each item, at most {@code maxInFlight} at a time, and returns once
   * every write it started has completed. Returns the number of writes.
   *
   * @throws ExecutionException with the first write that failed (its own failure as the cause),
   *     once the writes already started have completed; none started after it
   * @throws TimeoutException when no write completed for {@code stallNanos} while some were in
   *     flight; none started after it, and those started may still take effect
   * @throws InterruptedException when the caller was interrupted; none started after it
   */
  static <T> long run(Iterator<T> items, Function<T, CompletableFuture<?>> write, int maxInFlight, long stallNanos)
      throws ExecutionException, TimeoutException, InterruptedException {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
    }
    return new BulkWrites<T>().runAll(items, write, maxInFlight, stallNanos);
  }

  private long runAll(Iterator<T> items, Function<T, CompletableFuture<?>> write, int maxInFlight, long stallNanos)
      throws ExecutionException, TimeoutException, InterruptedException {
    while (items.hasNext()) {
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted before all writes of the bulk operation started");
      }
      if (!awaitInFlightBelow(maxInFlight, stallNanos)) {
        break; // a write failed
      }
      start(items.next(), write);
    }
    awaitInFlightBelow(1, stallNanos);
    lock.lock();
    try {
      if (failure != null) {
        throw new ExecutionException(failure);
      }
      return completed;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until fewer than {@code bound} writes are in flight, or one has failed and none is in
   * flight any more; returns false in the second case.
   */
  private boolean awaitInFlightBelow(int bound, long stallNanos) throws TimeoutException, InterruptedException {
    lock.lock();
    try {
      long seen = completed;
      long left = stallNanos;
      while (failure == null ? inFlight >= bound : inFlight > 0) {
        if (left <= 0) {
          TimeoutException timeout = new TimeoutException("no write completed for "
              + TimeUnit.NANOSECONDS.toMillis(stallNanos) + " ms; " + completed + " completed, " + inFlight
              + " still in flight");
          if (failure != null) {
            timeout.addSuppressed(failure); // the first failure, which stopped the operation
          }
          throw timeout;
        }
        left = completion.awaitNanos(left);
        if (completed != seen) {
          seen = completed;
          left = stallNanos; // progress: the stall bound starts again
        }
      }
      return failure == null;
    } finally {
      lock.unlock();
    }
  }

  private void start(T item, Function<T, CompletableFuture<?>> write) {
    lock.lock();
    try {
      inFlight++;
    } finally {
      lock.unlock();
    }
    CompletableFuture<?> future;
    try {
      future = write.apply(item);
    } catch (RuntimeException | Error e) {
      future = CompletableFuture.failedFuture(e);
    }
    future.whenComplete((result, error) -> completed(error));
  }

  /** A write completed, on whichever thread completed it: counts it and wakes the caller. */
  private void completed(@Nullable Throwable error) {
    lock.lock();
    try {
      inFlight--;
      completed++;
      if (error != null && failure == null) {
        failure = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      }
      completion.signal();
    } finally {
      lock.unlock();
    }
  }
}
