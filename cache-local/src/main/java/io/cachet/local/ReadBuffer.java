package io.cachet.local;

import io.cachet.Ticker;
import io.cachet.local.RecencyList.Node;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * The hits of an {@link LruStore} not yet applied to its recency order: a bounded ring of
 * sequence-numbered slots, filled without the cache's lock and drained, in sequence order and
 * under the lock, by whichever thread holds it. Nothing is ever dropped: a hit that finds the ring
 * full is served under the lock instead.
 *
 * <h2>Protocol</h2>
 *
 * <ul>
 *   <li>{@link #claim()} takes the next sequence number (a CAS on the tail), but only while its
 *       slot is free: the claim {@link #CAPACITY} before it has been drained. The claim is the
 *       read's point in the order of hits: reads are applied in claim order. A reader that finds
 *       the ring full claims nothing, and its hit is served under the lock ({@link #SERVE}), by
 *       itself or by the holder, after a drain of the ring.
 *   <li>{@link #publish} fills the claimed slot with the node read, or with {@link #SKIP} for a
 *       claim that read nothing. Every claim is published exactly once, a few loads after it was
 *       taken (and, for an entry with a deadline, one {@link Ticker#read}), and a reader publishes
 *       before it waits for anything, so a drain waiting for a slot waits for those steps only (or
 *       for a reader descheduled among them).
 *   <li>{@link #drain} (under the lock) applies the published reads from the head up to a given
 *       sequence number, waiting for a claimed slot until it is published, and moves the head past
 *       them.
 * </ul>
 *
 * <p>Memory: a slot's release store (publish) and the drainer's acquire load order what the reader
 * did before publishing before what the drainer does after; the drainer clears a slot before it
 * moves the head past it (release), and a reader reads the head (acquire) before it claims the
 * slot, so a slot is never written twice before it is drained.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class ReadBuffer<K, V> {

  /**
   * Slots in the ring. Small: a write drains every pending read while it holds the lock. On two
   * CPUs with two threads, 32 and 64 slots measured no worse than 128 on reads and better than
   * 512 on 75/25 reads and writes (about 10M against 4M ops/s).
   */
  static final int CAPACITY = 64;
  /** {@link #read}'s answer when the node is or was being changed or removed: look it up again. */
  static final Object RETRY = new Object();
  /**
   * {@link #read}'s answer when the entry expired, hits are routed or the ring is full: serve the
   * hit under the lock.
   */
  static final Object SERVE = new Object();
  /** What a claim that read nothing publishes. */
  private static final Object SKIP = new Object();

  private static final int MASK = CAPACITY - 1;
  /** A read whose sequence number ends in these bits drains if the lock is free. */
  private static final int DRAIN_MASK = CAPACITY / 2 - 1;
  /** A drain frees room for new claims at least once per this many + 1 reads. */
  private static final int PUBLISH_MASK = 15;
  /** Spins before a wait in the buffer starts yielding. */
  private static final int SPINS = 64;
  /** Counters are this many longs (128 bytes) apart: the tail and the head never share a line. */
  private static final int PAD = 16;
  private static final int TAIL = PAD;
  private static final int HEAD = 2 * PAD;

  private static final VarHandle REFS = MethodHandles.arrayElementVarHandle(Object[].class);
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  private final RecencyList<K, V> recency;
  private final CombiningLock<?> lock;
  private final Ticker ticker;
  /**
   * Each slot takes 16 references (64 bytes with compressed references, 128 without): a cache line
   * of its own, so two readers publishing consecutive claims do not write the same line. Measured
   * at two reading threads, forks alternated: 10-20% more reads/s than adjacent slots, no change at
   * one thread or with writes (docs/benchmarks.md). Costs 4 KiB (8 KiB) per cache.
   */
  private static final int STRIDE_SHIFT = 4;
  private final Object[] slots = new Object[CAPACITY << STRIDE_SHIFT];
  /** The tail (next sequence number to claim) at {@link #TAIL}, the head at {@link #HEAD}. */
  private final long[] counters = new long[3 * PAD];
  /** While set, hits are served under the lock instead of buffered ({@link #routeToLock}). */
  private volatile boolean routed;

  /**
   * @param recency the list that drains apply reads to, guarded by {@code lock}
   * @param lock the cache's lock
   * @param ticker the cache's ticker, read by hits on entries with a deadline
   */
  ReadBuffer(RecencyList<K, V> recency, CombiningLock<?> lock, Ticker ticker) {
    this.recency = recency;
    this.lock = lock;
    this.ticker = ticker;
  }

  /**
   * A hit without the lock: claims the read's place in the order of hits, reads the node's state
   * and then its value and deadline, and publishes the read. Returns the value, {@link #RETRY} if
   * the node is or was being changed or removed, or {@link #SERVE} if it has expired, hits are
   * routed to the lock or the ring is full (the hit is then served under the lock, which removes an
   * expired entry).
   *
   * <p>The claim is the read's linearization point. A change to this node first marks it {@link
   * RecencyList#BUSY} and then applies every read claimed so far, waiting for those not yet
   * published ({@link #beginChange}). The claim (a CAS on the tail) and the mark (a volatile write
   * followed by a volatile read of the tail) are sequentially consistent, so either this claim is
   * among those the change applies, and the change waits until this read has published, after it
   * read the value and deadline, or this read sees the mark. The value and deadline read between
   * seeing the state and publishing are therefore those the node had at the claim. An entry
   * with a deadline reads the ticker after the claim: not expired then, it was not expired at the
   * claim either, as the ticker never goes back.
   */
  Object read(Node<K, V> node) {
    long seq = claim();
    if (seq < 0) {
      return SERVE; // the ring is full: serve this hit under the lock, after a drain
    }
    if (routed) { // read after the claim: see routeToLock
      publish(seq, SKIP);
      return SERVE;
    }
    int state = node.state;
    if (state == RecencyList.LIVE) {
      long deadline = node.expiresAt;
      boolean live;
      try {
        live = deadline == Long.MAX_VALUE || ticker.read() - deadline < 0;
      } catch (RuntimeException | Error e) {
        publish(seq, SKIP); // a claim is always published: a drain waits for it
        throw e;
      }
      if (live) {
        V value = node.value;
        publish(seq, node);
        if ((seq & DRAIN_MASK) == DRAIN_MASK && lock.tryLock()) {
          // Drain before the ring fills, while other readers still have room.
          try {
            drain(tail(), null, false);
          } finally {
            lock.unlock();
          }
        }
        return value;
      }
      publish(seq, SKIP);
      return SERVE;
    }
    publish(seq, SKIP); // before waiting: a change may be waiting for this slot
    for (int spins = 0; state == RecencyList.BUSY; spins++) {
      waitBriefly(spins);
      state = node.state;
    }
    return RETRY;
  }

  /**
   * Under the lock, before changing a linked {@code node}'s value or deadline or removing it:
   * marks it {@link RecencyList#BUSY}, so reads claimed from now on wait, and applies every read
   * claimed before the mark (see {@link #read}). Returns whether one of those read {@code node}.
   * The change ends by setting the state to {@code LIVE} or {@code DEAD} before the lock is
   * released.
   */
  boolean beginChange(Node<K, V> node) {
    node.state = RecencyList.BUSY;
    return drain(tail(), node, true);
  }

  /**
   * Under the lock: while {@code routed}, hits claimed from now on are not buffered but answered
   * {@link #SERVE}, so they wait for the lock. Setting it, like a {@link #beginChange} mark, is
   * followed by the next drain's volatile read of the tail, so after that drain no buffered read
   * is pending that the drain did not apply. Must be cleared before the lock is released.
   */
  void routeToLock(boolean route) {
    routed = route;
  }

  /** Under the lock: applies every read claimed so far. */
  void drainAll() {
    drain(tail(), null, true);
  }

  /**
   * Claims the next sequence number if its slot is free (the claim {@link #CAPACITY} before it is
   * drained), or returns -1 if the ring is full. The caller must {@link #publish} a claim.
   *
   * <p>A claim is taken only when its slot is free, so no reader holds a claim while it waits: a
   * drain waits for every claim below the point it drains to, and a reader waiting for room while
   * holding one, if descheduled, would hold up every drain, and so every other reader, until it ran
   * again (docs/local.md).
   */
  private long claim() {
    while (true) {
      long tail = (long) LONGS.getVolatile(counters, TAIL);
      if (tail - (long) LONGS.getAcquire(counters, HEAD) >= CAPACITY) {
        return -1;
      }
      if (LONGS.compareAndSet(counters, TAIL, tail, tail + 1)) {
        return tail;
      }
    }
  }

  /** Fills the slot of claim {@code seq} with {@code read}: a node, or {@link #SKIP}. */
  private void publish(long seq, Object read) {
    REFS.setRelease(slots, ((int) seq & MASK) << STRIDE_SHIFT, read);
  }

  /** The next sequence number to be claimed; a drain up to it applies every read claimed so far. */
  private long tail() {
    return (long) LONGS.getVolatile(counters, TAIL);
  }

  /**
   * Under the lock: applies every read claimed before {@code upTo} and not yet drained, oldest
   * first, by moving its node to the most recent end. Returns whether one of them read {@code
   * watched}.
   */
  @SuppressWarnings("unchecked")
  private boolean drain(long upTo, @Nullable Node<K, V> watched, boolean complete) {
    long head = (long) LONGS.getOpaque(counters, HEAD);
    boolean read = false;
    for (; head < upTo; head++) {
      int slot = ((int) head & MASK) << STRIDE_SHIFT;
      Object cell = REFS.getAcquire(slots, slot);
      if (cell == null) {
        // Claimed, not yet published (a few loads away): free what was drained so far first.
        LONGS.setRelease(counters, HEAD, head);
        if (!complete) {
          return read;
        }
        for (int spins = 0; (cell = REFS.getAcquire(slots, slot)) == null; spins++) {
          waitBriefly(spins);
        }
      } else if ((head & PUBLISH_MASK) == 0) {
        LONGS.setRelease(counters, HEAD, head); // room for new claims before the end, too
      }
      REFS.setOpaque(slots, slot, null);
      if (cell != SKIP) {
        Node<K, V> node = (Node<K, V>) cell;
        // A published node was live when read, and leaving the list takes a drain first; the
        // check only keeps a broken invariant from corrupting the list.
        if (RecencyList.isLinked(node)) {
          recency.moveToTail(node);
          read |= node == watched;
        }
      }
    }
    LONGS.setRelease(counters, HEAD, head);
    return read;
  }

  /**
   * One step of a wait for another thread's few instructions (a publish, a drain, a change):
   * spins, then yields, never parks; a park would outlast what it waits for many times over.
   */
  private static void waitBriefly(int spins) {
    if (spins < SPINS) {
      Thread.onSpinWait();
    } else {
      Thread.yield();
    }
  }
}
