package io.cachet;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A manually advanced {@link Ticker} and {@link InstantSource} for tests.
 *
 * <p>Both views move together: advancing the ticker by a duration advances {@link #instant()} by
 * the same duration, so a cache that reads nanosecond time for local expiry and wall-clock time for
 * absolute deadlines sees one consistent clock. Thread-safe.
 *
 * <pre>{@code
 * FakeTicker ticker = new FakeTicker();
 * Cache<String, String> cache = manager.create(CacheConfig.builder("c")
 *     .expireAfterWrite(Duration.ofMinutes(1)).ticker(ticker).clock(ticker).build());
 * cache.put("k", "v");
 * ticker.advance(Duration.ofMinutes(1));
 * assert cache.get("k") == null;
 * }</pre>
 */
public final class FakeTicker implements Ticker, InstantSource {

  private final AtomicLong nanos = new AtomicLong();
  private final Instant origin;

  /** Creates a ticker reading zero, whose wall clock starts at 2020-01-01T00:00:00Z. */
  public FakeTicker() {
    this(Instant.parse("2020-01-01T00:00:00Z"));
  }

  /** Creates a ticker reading zero, whose wall clock starts at {@code origin}. */
  public FakeTicker(Instant origin) {
    this.origin = requireNonNull(origin, "origin");
  }

  /** Advances time by {@code duration}, which must not be negative, and returns this ticker. */
  public FakeTicker advance(Duration duration) {
    requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("duration must be >= 0, was " + duration);
    }
    nanos.addAndGet(duration.toNanos());
    return this;
  }

  /** Advances time by {@code nanoseconds}, which must not be negative, and returns this ticker. */
  public FakeTicker advanceNanos(long nanoseconds) {
    if (nanoseconds < 0) {
      throw new IllegalArgumentException("nanoseconds must be >= 0, was " + nanoseconds);
    }
    nanos.addAndGet(nanoseconds);
    return this;
  }

  @Override
  public long read() {
    return nanos.get();
  }

  @Override
  public Instant instant() {
    return origin.plusNanos(nanos.get());
  }

  @Override
  public String toString() {
    return "FakeTicker{" + Duration.ofNanos(nanos.get()) + "}";
  }
}
