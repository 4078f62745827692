package io.cachet.replicated;

import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Runs one write per item of a bulk operation ({@code putAll}, {@code clear}) with at most
 * {@link #MAX_IN_FLIGHT} of them started and not yet complete, starting the next as one completes.
 * Without the bound, a bulk operation over more keys than the send queue holds
 * ({@link Sender#MAX_QUEUED_RECORDS}) would queue them all at once, and every write past the
 * queue's bound would fail; with it, a bulk operation of any size leaves most of the queue to the
 * cache's other writers.
 *
 * <p>On the first failure no further write is started; the result fails with that failure once the
 * writes already started have completed. Thread-safe: completions arrive on any thread, and the
 * items are taken from the iterator under this object's lock, one at a time.
 *
 * @param <T> the item type
 */
final class BulkWrites<T> {

  /** Writes of one bulk operation started and not yet complete, at most: a tenth of the send queue. */
  static final int MAX_IN_FLIGHT = Sender.MAX_QUEUED_RECORDS / 10;

  private final Iterator<T> items;
  private final Function<T, CompletableFuture<?>> write;
  private final int maxInFlight;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  /** Writes completed so far, for a caller that waits on progress rather than on one deadline. */
  private volatile long completed;

  // Guarded by this.
  private int inFlight;
  private @Nullable Throwable failure;
  private boolean pumping;

  private BulkWrites(Iterator<T> items, Function<T, CompletableFuture<?>> write, int maxInFlight) {
    this.items = items;
    this.write = write;
    this.maxInFlight = maxInFlight;
  }

  /**
   * Starts {@code write} for each item, at most {@link #MAX_IN_FLIGHT} at a time; its {@link
   * #result()} completes once every write has, or fails with the first failure (after which none is
   * started).
   */
  static <T> BulkWrites<T> run(Iterator<T> items, Function<T, CompletableFuture<?>> write) {
    return run(items, write, MAX_IN_FLIGHT);
  }

  /** {@link #run(Iterator, Function)} with another bound, for tests. */
  static <T> BulkWrites<T> run(Iterator<T> items, Function<T, CompletableFuture<?>> write, int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
    }
    BulkWrites<T> bulk = new BulkWrites<>(items, write, maxInFlight);
    bulk.pump();
    return bulk;
  }

  /** Completes once every write has completed, or fails with the first failure. */
  CompletableFuture<Void> result() {
    return done;
  }

  /** Returns how many writes have completed, successfully or not. */
  long completed() {
    return completed;
  }

  /**
   * Starts writes while there is room, items and no failure; completes the result when nothing is
   * left in flight. One thread pumps at a time; a completion that arrives meanwhile (also one that
   * completes inside {@code write}, on the pumping thread) leaves it to the pumping thread, which
   * looks at the counts again before it stops, so the stack stays flat however many writes
   * complete at once.
   */
  private void pump() {
    synchronized (this) {
      if (pumping) {
        return; // the pumping thread sees this completion's count at its next look, under the lock
      }
      pumping = true;
    }
    while (true) {
      T item = null;
      boolean finished = false;
      Throwable failed = null;
      synchronized (this) {
        if (failure == null && inFlight < maxInFlight && items.hasNext()) {
          item = items.next();
          inFlight++;
        } else {
          pumping = false;
          if (inFlight > 0) {
            return; // the next completion pumps
          }
          finished = true;
          failed = failure;
        }
      }
      if (finished) {
        // Nothing in flight and nothing more to start: every write has completed.
        if (failed == null) {
          done.complete(null);
        } else {
          done.completeExceptionally(failed);
        }
        return;
      }
      start(item);
    }
  }

  private void start(T item) {
    CompletableFuture<?> future;
    try {
      future = write.apply(item);
    } catch (RuntimeException | Error e) {
      future = CompletableFuture.failedFuture(e);
    }
    future.whenComplete((result, error) -> {
      synchronized (this) {
        inFlight--;
        completed++; // written under the lock, read without it
        if (error != null && failure == null) {
          failure = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        }
      }
      pump();
    });
  }
}
