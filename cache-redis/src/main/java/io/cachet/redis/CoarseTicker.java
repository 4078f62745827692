package io.cachet.redis;

import io.cachet.Ticker;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The near stores' clock: {@link System#nanoTime()} sampled once every {@link #TICK_NANOS} by one
 * daemon thread ({@code cachet-redis-clock-<address>}), so a near hit checks its entry's maximum
 * age with a volatile read instead of a read of the system clock, which costs more than the rest
 * of a hit (docs/benchmarks.md, "The near hit's clock"). A reading is never ahead of {@code
 * System.nanoTime()} and at most one tick plus the thread's scheduling delay behind it, so an
 * entry's age is known within that much: it can be dropped that much before its maximum age, or
 * served that much past it. The scheduling delay is normally well under a millisecond but has no
 * hard bound (a safepoint pause, a starved or throttled CPU). Deadlines that come from Redis (a
 * key's TTL) are checked against the cache's own ticker, not this one, so a near hit on a key with
 * a TTL still reads the system clock once.
 *
 * <p><b>Idle.</b> Sampling costs about 1.5% of a CPU, so the thread samples for {@link
 * #AWAKE_TICKS} ticks and then parks until a reading wakes it: an idle client costs nothing. The
 * {@code state} says whether {@code now} is being kept current ({@link #RUNNING}); in any other
 * state a reading is {@code System.nanoTime()} itself. The reading that finds the thread {@link
 * #IDLE} moves it to {@link #WAKING} (one compare-and-set, so one waker), writes a current {@code
 * now}, then sets {@link #RUNNING} and unparks the thread: a reader that sees {@link #RUNNING} sees
 * that {@code now} or a later one. The thread writes {@code now} only while {@link #RUNNING} and
 * the waker only while {@link #WAKING}, so {@code now} never goes backwards; readings of different
 * threads may differ by up to a tick around a wake-up (one read the system clock, the other
 * {@code now}).
 *
 * <p>One per {@link RedisClient}, started by the first near cache that asks for it and stopped when
 * the client closes.
 */
final class CoarseTicker implements Ticker, AutoCloseable {

  /** How often the reading is refreshed while running: 1 ms. */
  static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  /** Ticks sampled after a wake-up before the thread parks again: 100, so 100 ms. */
  static final int AWAKE_TICKS = 100;

  static final int RUNNING = 0;
  static final int IDLE = 1;
  static final int WAKING = 2;
  static final int CLOSED = 3;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(CoarseTicker.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Thread thread;
  private final int awakeTicks;
  private final LongSupplier clock;
  private volatile long now;
  private volatile int state = RUNNING;

  CoarseTicker(String name) {
    this(name, AWAKE_TICKS, System::nanoTime);
  }

  /** With {@code awakeTicks} ticks between going idle (for tests). */
  CoarseTicker(String name, int awakeTicks) {
    this(name, awakeTicks, System::nanoTime);
  }

  /** With {@code awakeTicks} ticks between going idle, sampling {@code clock} (for tests). */
  CoarseTicker(String name, int awakeTicks, LongSupplier clock) {
    this.awakeTicks = awakeTicks;
    this.clock = clock;
    this.now = clock.getAsLong();
    this.thread = new Thread(this::run, "cachet-redis-clock-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public long read() {
    return state == RUNNING ? now : readAndWake();
  }

  private long readAndWake() {
    if (STATE.compareAndSet(this, IDLE, WAKING)) {
      // Read after winning: a time read before could be older than what the thread wrote while a
      // stalled waker waited, and writing it would move now back.
      long time = clock.getAsLong();
      now = time;
      if (STATE.compareAndSet(this, WAKING, RUNNING)) { // not if closed meanwhile
        LockSupport.unpark(thread);
      }
      return time;
    }
    return clock.getAsLong();
  }

  private void run() {
    int ticks = 0;
    while (true) {
      LockSupport.parkNanos(this, TICK_NANOS);
      // An interrupt (from anyone: only close() ends this thread) would make every later park
      // return at once and the loop spin; the clock must keep moving, so it is cleared.
      Thread.interrupted();
      if (state == CLOSED) {
        return;
      }
      now = clock.getAsLong();
      if (++ticks >= awakeTicks) {
        ticks = 0;
        if (!STATE.compareAndSet(this, RUNNING, IDLE)) {
          return; // closed
        }
        while (state == IDLE || state == WAKING) { // WAKING: the waker sets RUNNING next
          LockSupport.park(this);
          Thread.interrupted();
        }
      }
    }
  }

  /** Stops the thread; later readings are {@code System.nanoTime()}. */
  @Override
  public void close() {
    state = CLOSED;
    LockSupport.unpark(thread);
  }

  /** The sampled time, whatever the state (for tests). */
  long nowForTest() {
    return now;
  }

  /** The state (for tests). */
  int stateForTest() {
    return state;
  }

  /** The sampling thread (for tests). */
  Thread threadForTest() {
    return thread;
  }

  /** Whether the thread has ended (for tests). */
  boolean stopped() {
    return !thread.isAlive();
  }

  @Override
  public String toString() {
    return "CoarseTicker[" + thread.getName() + ", tick " + TICK_NANOS / 1_000 + " us]";
  }
}
