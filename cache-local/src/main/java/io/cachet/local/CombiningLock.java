package io.cachet.local;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * A mutual-exclusion lock whose holder also serves the requests that threads waiting for it have
 * published (flat combining), so that a short read under contention costs one handoff of the
 * holder's cache lines instead of one lock handoff per read.
 *
 * <h2>Protocol</h2>
 *
 * <ul>
 *   <li>{@link #lock()} and {@link #unlock()} bracket a critical section, as with any lock. Before
 *       it releases the lock, {@code unlock} serves every request published in a slot.
 *   <li>{@link #serve(Object)} runs {@code server.apply(request)} under the lock and returns its
 *       response. If the lock is free it takes it and runs the request itself. Otherwise it
 *       publishes the request in a slot and waits: either the holder serves it before releasing
 *       (the holder writes the response into the slot), or the lock becomes free and this thread
 *       takes it and serves every published request, its own included. Either way the request
 *       runs under the lock, inside this call, exactly once.
 *   <li>Waiting spins briefly, then yields, then parks for {@value #PARK_NANOS} ns at a time: a
 *       critical section here is a few pointer moves, shorter than a park and unpark, and the
 *       timed park means no holder ever has to wake a waiter, so {@code unlock} is one release
 *       store. With more runnable threads than CPUs the yield lets a descheduled holder finish.
 * </ul>
 *
 * <p>A slot holds {@code null} (free), a request (published, not yet served) or a response
 * (served, not yet collected). Requests are recognised as instances of {@code requestType} (or a
 * subclass); a response must never be {@code null} nor of that class. A slot is claimed by a CAS from {@code
 * null}; only the lock holder turns a request into a response; only the claiming thread frees the
 * slot, after reading the response. If a thread finds no free slot, it takes the lock itself.
 *
 * <p>Memory visibility: the lock's acquiring CAS and releasing store order the critical sections;
 * a slot's volatile write of the response after the server ran, and the waiter's volatile read of
 * it, make the server's effects visible to the waiter as if it had held the lock itself.
 *
 * @param <R> the type of a request
 */
final class CombiningLock<R> {

  /** Spins before the first yield: a few critical sections' worth. */
  private static final int SPINS = 1 << 7;
  /** A waiter with a published request looks at the lock word once per this many + 1 spins. */
  private static final int LOCK_POLL_MASK = 15;
  /** Yields before parking. */
  private static final int YIELDS = 1 << 4;
  /** One timed park of a waiter that has spun and yielded; bounds the wake-up latency. */
  private static final long PARK_NANOS = 20_000;

  /** Slots are this many references apart, so that two slots never share a cache line pair. */
  private static final int STRIDE = 32;
  /** The lock word's index in {@link #word}, padded on both sides. */
  private static final int WORD = 32;

  private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
  private static final VarHandle REFS = MethodHandles.arrayElementVarHandle(Object[].class);

  private final Class<?> requestType;
  private final Function<? super R, ?> server;
  /** The lock word at {@link #WORD}: 0 free, 1 held. */
  private final int[] word = new int[2 * WORD];
  /** The slots at indices {@code i * STRIDE}. */
  private final Object[] slots;
  private final int slotMask;

  /**
   * @param requestType the class of every request (and of no response)
   * @param server runs one request under the lock and returns its response, never null
   */
  CombiningLock(Class<R> requestType, Function<? super R, ?> server) {
    this.requestType = requestType;
    this.server = server;
    int n = Integer.highestOneBit(Math.max(2, Runtime.getRuntime().availableProcessors()) * 2 - 1);
    n = Math.min(64, n * 2);
    this.slots = new Object[(n + 1) * STRIDE];
    this.slotMask = n - 1;
  }

  /** Takes the lock, waiting as long as it takes. */
  void lock() {
    for (int spins = 0; !tryLock(); spins++) {
      backOff(spins);
    }
  }

  /** Serves the published requests, then releases the lock. */
  void unlock() {
    try {
      serveWaiting();
    } finally {
      INTS.setRelease(word, WORD, 0);
    }
  }

  /** Runs {@code request} under the lock, here or on the holder's thread, and returns its response. */
  Object serve(R request) {
    if (tryLock()) {
      return serveHeld(request);
    }
    int slot = claim(request);
    if (slot < 0) {
      lock();
      return serveHeld(request);
    }
    for (int spins = 0; ; spins++) {
      Object cell = REFS.getVolatile(slots, slot);
      if (cell != request) {
        REFS.setRelease(slots, slot, null);
        return cell;
      }
      // Look at the lock word only now and then: while the holder serves us, reading it would
      // take its cache line away from the holder, whose next acquisition would then miss.
      if ((spins >= SPINS || (spins & LOCK_POLL_MASK) == LOCK_POLL_MASK) && tryLock()) {
        unlock(); // serves our request with the others
        spins = 0;
        continue;
      }
      backOff(spins);
    }
  }

  /** With the lock held: runs {@code request}, then unlocks (serving the others). */
  private Object serveHeld(R request) {
    try {
      return server.apply(request);
    } finally {
      unlock();
    }
  }

  /** Takes the lock if it is free; returns whether it did. */
  boolean tryLock() {
    return (int) INTS.getOpaque(word, WORD) == 0 && INTS.compareAndSet(word, WORD, 0, 1);
  }

  /** Publishes {@code request} in a free slot near this thread's; returns its index or -1. */
  private int claim(R request) {
    long id = Thread.currentThread().getId();
    int h = (int) (id * 0x9E3779B97F4A7C15L >>> 40);
    for (int probe = 0; probe < 2; probe++) {
      int slot = (((h + probe) & slotMask) + 1) * STRIDE;
      if (REFS.getOpaque(slots, slot) == null && REFS.compareAndSet(slots, slot, null, request)) {
        return slot;
      }
    }
    return -1;
  }

  /** Under the lock: answers every published request. */
  private void serveWaiting() {
    for (int i = 1; i <= slotMask + 1; i++) {
      int slot = i * STRIDE;
      Object cell = REFS.getVolatile(slots, slot);
      if (requestType.isInstance(cell)) { // subclasses too: the LRU's nodes with a write time
        @SuppressWarnings("unchecked")
        R request = (R) cell;
        Object response;
        try {
          response = server.apply(request);
        } catch (RuntimeException | Error e) {
          response = new Failure(e);
        }
        REFS.setVolatile(slots, slot, response);
      }
    }
  }

  /**
   * Waits a little, more as {@code spins} grows: spins, then yields, then parks {@value
   * #PARK_NANOS} ns at a time.
   */
  static void backOff(int spins) {
    if (spins < SPINS) {
      Thread.onSpinWait();
    } else if (spins < SPINS + YIELDS) {
      Thread.yield();
    } else {
      LockSupport.parkNanos(PARK_NANOS);
    }
  }

  /** A response carrying what the server threw for another thread's request; rethrown there. */
  record Failure(Throwable cause) {

    /** Rethrows the cause on the requesting thread. */
    RuntimeException rethrow() {
      if (cause instanceof RuntimeException e) {
        throw e;
      }
      throw (Error) cause;
    }
  }
}
