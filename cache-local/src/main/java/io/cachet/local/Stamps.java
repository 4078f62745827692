package io.cachet.local;

import io.cachet.Ticker;
import io.cachet.local.RecencyHeap.Node;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * The clock of an {@link LruStore} and the protocol on its nodes' {@link Node#stamp}s: how a hit
 * and an overwrite run without the lock, and how a change under the lock keeps them out.
 *
 * <p>A stamp is the ticket of the node's last use (positive; tickets only grow), {@link #BUSY}
 * while the lock holder changes the node (or inserts it), {@link #WRITING} while a lock-free
 * overwrite does, or {@link #DEAD} once the node is removed (it leaves the map before, or, when
 * the cache closes or a failed insert could not take it out, just after). A positive stamp is only ever
 * replaced by a larger ticket, by a mark or by {@code DEAD}; a mark is taken by a CAS from a
 * positive stamp, so one thread at a time holds it, and only that thread sets the stamp again:
 * with a new ticket, {@code DEAD}, or the stamp it had when it changed nothing about the node
 * ({@link #unmark}). So a hit's CAS from a stamp it read earlier succeeds only if no change began
 * in between, or one began and changed nothing: that is what lets a hit read the value and
 * deadline between reading the stamp and replacing it ({@link #hit}). The two marks differ so
 * that the lock holder, giving its mark back, can never take a lock-free overwrite's mark for
 * its own.
 *
 * <p>Test hooks: {@link #afterOverwriteMark} (plain field, like {@link LruStore}'s).
 */
final class Stamps {

  /** {@link Node#stamp}: the lock holder changes the node, or inserts it; hits and marks wait. */
  static final long BUSY = 0L;
  /** {@link Node#stamp}: removed; never used again. */
  static final long DEAD = -1L;
  /** {@link Node#stamp}: a lock-free overwrite changes the node; hits and marks wait. */
  static final long WRITING = -2L;
  /** {@link #hit}'s answer when the node was removed: look the key up again. */
  static final Object RETRY = new Object();
  /** {@link #hit}'s answer when the entry has expired: serve the hit under the lock. */
  static final Object SERVE = new Object();
  /** {@link #overwrite}'s answer when it changed nothing: the node is gone or has a deadline. */
  static final Object NOT_WRITTEN = new Object();

  private static final VarHandle STAMP;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  /** The clock's index in {@link #clock}: 128 bytes from either end, a cache line of its own. */
  private static final int CLOCK = 16;

  static {
    try {
      STAMP = MethodHandles.lookup().findVarHandle(Node.class, "stamp", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The last ticket taken, at {@link #CLOCK}; tickets start at 1 (0 is {@code BUSY}). */
  private final long[] clock = new long[2 * CLOCK];
  private final Ticker ticker;
  /** Runs in a lock-free overwrite once it holds its mark; a hook for tests, which must not throw. */
  @Nullable Runnable afterOverwriteMark;

  /** @param ticker the cache's ticker, read by hits on entries with a deadline */
  Stamps(Ticker ticker) {
    this.ticker = ticker;
  }

  /** Takes the next ticket: larger than every ticket taken before it. */
  long tick() {
    return (long) LONGS.getAndAdd(clock, CLOCK, 1L) + 1;
  }

  /**
   * A hit without the lock: returns the node's value, {@link #RETRY} if it was removed, or {@link
   * #SERVE} if it has expired. Waits while the node is marked ({@code BUSY} or {@code WRITING}).
   *
   * <p>The ticket is the hit's linearization point. A change marks the node ({@code BUSY} or
   * {@code WRITING}) before it writes the value or deadline and stamps the node with a new ticket
   * after them (a lock-free overwrite takes that ticket while marked, just before the value), so
   * a successful CAS from the stamp read first means no change began between that read and the
   * CAS: the value and deadline read in between are the node's at the ticket, and the node was in
   * the map then. An entry with a deadline reads the ticker after the ticket: not expired then, it
   * was not expired at the ticket either, as the ticker never goes back.
   */
  <V> Object hit(Node<?, V> node) {
    for (int spins = 0; ; ) {
      long stamp = node.stamp;
      if (stamp > BUSY) {
        V value = node.value;
        long deadline = node.expiresAt();
        long ticket = tick();
        if (deadline != Long.MAX_VALUE && ticker.read() - deadline >= 0) {
          return SERVE;
        }
        if (STAMP.compareAndSet(node, stamp, ticket)) {
          return value;
        }
      } else if (stamp == DEAD) {
        return RETRY;
      } else {
        CombiningLock.backOff(spins++); // marked: a change to this node, or its insert, runs
      }
    }
  }

  /**
   * Overwrites the value of a node without a deadline without the lock, and returns the value it
   * replaced; returns {@link #NOT_WRITTEN}, having changed nothing, when the node is gone or has a
   * deadline. The node is marked {@link #WRITING}, not {@code BUSY}: a mark under the lock waits
   * for it, and the lock holder never gives it back as its own. The write takes effect at the
   * ticket it stamps the node with, taken while it holds the mark and before it stores the value:
   * no hit can read the value in between and succeed (one that read the stamp before the mark
   * fails its CAS), and a hit that waited reads the new value with a later ticket. The stamp is
   * set after the value.
   */
  <V> Object overwrite(Node<?, V> node, V value) {
    long stamp;
    for (int spins = 0; ; ) {
      stamp = node.stamp;
      if (stamp == DEAD) {
        return NOT_WRITTEN;
      }
      if (stamp <= BUSY) {
        CombiningLock.backOff(spins++); // marked
      } else if (STAMP.compareAndSet(node, stamp, WRITING)) {
        break;
      }
    }
    boolean changed = false;
    try {
      Runnable hook = afterOverwriteMark;
      if (hook != null) {
        hook.run();
      }
      if (node.expiresAt() != Long.MAX_VALUE) {
        return NOT_WRITTEN; // nothing changed; the lock's way keeps count of deadlines
      }
      // The ticket before the value: nothing may throw once the value is stored, as giving the
      // mark back then would let a hit that read the old stamp succeed with the new value.
      long ticket = tick();
      V old = node.value;
      node.value = value;
      node.stamp = ticket;
      changed = true;
      return old;
    } finally {
      if (!changed) { // also after an Error (a stack overflow in tick, say): no mark may outlive it
        node.stamp = stamp;
      }
    }
  }

  /**
   * Under the lock: swaps the {@code node}'s stamp for {@code BUSY}, waiting while a lock-free
   * overwrite holds it ({@link #WRITING}), so that hits wait from now on and a hit that read the
   * stamp before fails its CAS; returns the stamp it had. The node must be in the map and not
   * {@code DEAD} (see {@code LruTable.liveNode}).
   */
  static long mark(Node<?, ?> node) {
    for (int spins = 0; ; ) {
      long stamp = node.stamp;
      if (stamp <= BUSY) {
        CombiningLock.backOff(spins++);
      } else if (STAMP.compareAndSet(node, stamp, BUSY)) {
        return stamp;
      }
    }
  }

  /**
   * Under the lock: marks {@code node} only if its stamp is still {@code stamp}; returns whether it
   * did. An eviction marks its victim so: a hit since it looked makes it fail.
   */
  static boolean mark(Node<?, ?> node, long stamp) {
    return STAMP.compareAndSet(node, stamp, BUSY);
  }

  /**
   * Under the lock: gives a node this thread marked, and has not stamped since, its stamp back:
   * nothing about it changed. A node stamped since may be a lock-free overwrite's by now, marked
   * {@link #WRITING}, not {@code BUSY}: left alone.
   */
  static void unmark(Node<?, ?> node, long stamp) {
    if (node.stamp == BUSY) {
      node.stamp = stamp;
    }
  }
}
