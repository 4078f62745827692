package io.cachet.redis;

import io.cachet.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The near stores' clock: {@link System#nanoTime()} sampled once every {@link #TICK_NANOS} by one
 * daemon thread ({@code cachet-clock-<client>}), so a near hit checks its entry's maximum age with
 * a volatile read instead of a read of the system clock, which costs more than the rest of a hit
 * (docs/benchmarks.md, "The near hit's clock"). A reading is never ahead of {@code System.nanoTime()}
 * and at most one tick plus the thread's scheduling delay behind it, so an entry's age is known
 * within that much: it can be dropped that much before its maximum age, or served that much past
 * it. Deadlines that come from Redis (a key's TTL) are checked against the cache's own ticker, not
 * this one.
 *
 * <p>One per {@link RedisClient}, started by the first near cache that asks for it and stopped when
 * the client closes. Readings never go backwards: the thread is the only writer.
 */
final class CoarseTicker implements Ticker, AutoCloseable {

  /** How often the reading is refreshed: 1 ms. */
  static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final Thread thread;
  private volatile long now = System.nanoTime();
  private volatile boolean closed;

  CoarseTicker(String name) {
    this.thread = new Thread(this::run, "cachet-clock-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (!closed) {
      LockSupport.parkNanos(this, TICK_NANOS);
      now = System.nanoTime();
    }
  }

  @Override
  public long read() {
    return now;
  }

  /** Stops the thread; later readings stay where they were. */
  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
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
