package io.cachet.local;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * A bounded multi-producer, single-consumer ring of recorded reads, in the order producers claimed
 * their slots.
 *
 * <p>Producers claim a slot by CAS on {@code tail} and then publish the element into it. The single
 * consumer (whoever holds the owning cache's lock) takes every slot claimed before it started
 * draining, waiting for a producer that has claimed but not yet published (a few instructions
 * away). {@code head} is volatile and advanced only after the drained slots are cleared, so a
 * producer that sees a free slot also sees it empty. Nothing is ever dropped: {@link #offer}
 * reports a full ring and the caller drains it itself.
 */
final class ReadBuffer<E> {

  /** Pending reads at which a reader tries to drain, if the lock is free. */
  static final int DRAIN_THRESHOLD = 64;

  private static final int CAPACITY = 1024;
  private static final int MASK = CAPACITY - 1;

  private final AtomicReferenceArray<E> slots = new AtomicReferenceArray<>(CAPACITY);
  private final AtomicLong tail = new AtomicLong();
  private volatile long head;

  /** Appends {@code element}; returns false, changing nothing, if the ring is full. */
  boolean offer(E element) {
    while (true) {
      long t = tail.get();
      if (t - head >= CAPACITY) {
        return false;
      }
      if (tail.compareAndSet(t, t + 1)) {
        slots.setRelease((int) t & MASK, element);
        return true;
      }
    }
  }

  /** Returns how many reads are claimed but not drained. */
  long pending() {
    return tail.get() - head;
  }

  /** Passes every element claimed so far to {@code consumer}, in claim order. Consumer only. */
  void drain(Consumer<? super E> consumer) {
    long h = head;
    long t = tail.get();
    if (h == t) {
      return;
    }
    for (; h < t; h++) {
      int index = (int) h & MASK;
      E element;
      int spins = 0;
      while ((element = slots.getAcquire(index)) == null) {
        // Claimed but not yet published by its producer.
        if (++spins < 64) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
      slots.setPlain(index, null);
      consumer.accept(element);
    }
    head = h;
  }
}
