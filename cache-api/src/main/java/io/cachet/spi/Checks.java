package io.cachet.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** Argument checks every backend applies the same way, with the same messages. */
public final class Checks {

  private Checks() {}

  /** Returns {@code ttl} if it is positive; otherwise throws IAE naming it. */
  public static Duration requirePositiveTtl(Duration ttl) {
    requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0, was " + ttl);
    }
    return ttl;
  }

  /** Returns {@code ttl} if it is zero or positive; otherwise throws IAE naming it. */
  public static Duration requireNonNegativeTtl(Duration ttl) {
    requireNonNull(ttl, "ttl");
    if (ttl.isNegative()) {
      throw new IllegalArgumentException("ttl must be >= 0, was " + ttl);
    }
    return ttl;
  }

  /**
   * Returns {@code duration} in nanoseconds, saturating at {@link Long#MAX_VALUE} instead of
   * overflowing for very long durations.
   */
  public static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
