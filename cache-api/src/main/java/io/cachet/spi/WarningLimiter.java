package io.cachet.spi;

import io.cachet.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Lets a repeated warning through at most once per interval, counting the ones held back in
 * between so the next one that passes can say how many there were. Reads the cache's ticker.
 * Thread-safe.
 */
final class WarningLimiter {

  private static final long NEVER = Long.MIN_VALUE;

  private final Ticker ticker;
  private final long intervalNanos;
  private final AtomicLong lastPassed = new AtomicLong(NEVER);
  private final LongAdder suppressed = new LongAdder();

  WarningLimiter(Ticker ticker, Duration interval) {
    this.ticker = ticker;
    this.intervalNanos = Checks.saturatedNanos(interval);
  }

  /**
   * Returns {@code -1} if this warning is to be held back (and counts it), otherwise the number
   * held back since the last one that passed.
   */
  long tryAcquire() {
    long now = ticker.read();
    long last = lastPassed.get();
    if ((last != NEVER && now - last < intervalNanos) || !lastPassed.compareAndSet(last, now)) {
      suppressed.increment();
      return -1;
    }
    return suppressed.sumThenReset();
  }
}
