package io.cachet;

/**
 * A source of nanosecond time used for expiry.
 *
 * <p>Only differences between two readings are meaningful. Caches read time through a ticker, never
 * {@link System#nanoTime()} directly, so tests can advance a {@link FakeTicker} instead of sleeping.
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Ticker {

  /** Returns the current reading in nanoseconds. */
  long read();

  /** Returns a ticker that reads {@link System#nanoTime()}. */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}

enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }
}
