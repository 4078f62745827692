package io.cachet.local;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * A bounded multi-producer, single-consumer ring of recorded reads, in the order producers claimed
 * their slots.
 *
 * <p>Producers claim a slot by CAS on {@code tail} and then publish the element into it. The single
 * consumer (whoever holds the owning cache's lock) takes every published element claimed before it
 * started draining, in slot order. It never waits for a producer: a slot that is claimed but not
 * yet published belongs to a read that is still running, and such a read may be ordered after this
 * drain (its reader checks the node's state only after publishing). So the consumer skips that
 * slot, applies the published ones after it, marks those consumed, and leaves {@code head} at the
 * gap; a later drain applies the late element and moves {@code head} past it and the consumed
 * slots. A descheduled reader therefore never stalls a lock holder.
 *
 * <p>{@code head} is volatile and advanced only after the slots behind it are cleared, so a
 * producer that sees a free slot also sees it empty. Nothing is ever dropped: {@link #offer}
 * reports a full ring and the caller applies its read itself under the lock.
 */
final class ReadBuffer<E> {

  /** A reader drains after every this many claimed slots, if the lock is free. */
  static final int DRAIN_THRESHOLD = 64;

  private static final int CAPACITY = 1024;
  private static final int MASK = CAPACITY - 1;
  private static final Object CONSUMED = new Object();

  private final AtomicReferenceArray<Object> slots = new AtomicReferenceArray<>(CAPACITY);
  private final AtomicLong tail = new AtomicLong();
  private volatile long head;
  /**
   * A lower bound of {@code head + CAPACITY} that producers read instead of {@code head}, which
   * the consumer writes on every drain; refreshed only when a producer reaches it.
   */
  private volatile long producerLimit = CAPACITY;

  /**
   * Appends {@code element} and returns the slot it claimed, or -1, changing nothing, if the ring
   * is full.
   */
  long offer(E element) {
    while (true) {
      long t = tail.get();
      if (t >= producerLimit) {
        long limit = head + CAPACITY;
        producerLimit = limit;
        if (t >= limit) {
          return -1;
        }
      }
      if (tail.compareAndSet(t, t + 1)) {
        // A volatile write, not a release: with the reader's later volatile read of the node's
        // state and the evictor's volatile write of that state before it drains, this is a
        // Dekker handshake, which needs sequential consistency on both sides (see LruCache).
        slots.set((int) t & MASK, element);
        return t;
      }
    }
  }

  /**
   * Passes every element published so far and not yet drained to {@code consumer}, in claim
   * order, skipping (for a later drain) slots whose producers have not published yet. Consumer
   * only.
   */
  @SuppressWarnings("unchecked")
  void drain(Consumer<? super E> consumer) {
    long h = head;
    long t = tail.get();
    long newHead = h;
    boolean gap = false;
    for (long i = h; i < t; i++) {
      int index = (int) i & MASK;
      Object element = slots.get(index);
      if (element == null) {
        gap = true; // claimed, not published: that read is still running
        continue;
      }
      if (element != CONSUMED) {
        consumer.accept((E) element);
      }
      if (gap) {
        slots.setPlain(index, CONSUMED);
      } else {
        slots.setPlain(index, null);
        newHead = i + 1;
      }
    }
    if (newHead != h) {
      head = newHead; // publishes the cleared slots to producers
    }
  }
}
