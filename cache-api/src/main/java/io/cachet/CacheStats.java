package io.cachet;

/**
 * A snapshot of a cache's counters since it was created.
 *
 * <p>Snapshots are immutable; subtract two with {@link #minus} to get the activity in between.
 * Counters are never negative.
 *
 * @param hitCount lookups that found a value
 * @param missCount lookups that found none (a read-through load counts as a miss)
 * @param putCount values stored by the application
 * @param loadSuccessCount loads that returned a value (or, for read-through backends, found one)
 * @param loadFailureCount loads that threw or returned nothing
 * @param totalLoadTimeNanos nanoseconds spent loading, successful or not
 * @param evictionCount entries removed by the cache itself, for size or expiry
 */
public record CacheStats(
    long hitCount,
    long missCount,
    long putCount,
    long loadSuccessCount,
    long loadFailureCount,
    long totalLoadTimeNanos,
    long evictionCount) {

  private static final CacheStats EMPTY = new CacheStats(0, 0, 0, 0, 0, 0, 0);

  /** Validates that no counter is negative. */
  public CacheStats {
    requireNonNegative(hitCount, "hitCount");
    requireNonNegative(missCount, "missCount");
    requireNonNegative(putCount, "putCount");
    requireNonNegative(loadSuccessCount, "loadSuccessCount");
    requireNonNegative(loadFailureCount, "loadFailureCount");
    requireNonNegative(totalLoadTimeNanos, "totalLoadTimeNanos");
    requireNonNegative(evictionCount, "evictionCount");
  }

  /** Returns a snapshot with every counter at zero. */
  public static CacheStats empty() {
    return EMPTY;
  }

  /** Returns hits plus misses. */
  public long requestCount() {
    return saturatedAdd(hitCount, missCount);
  }

  /** Returns hits divided by requests, or 1.0 when there were no requests. */
  public double hitRate() {
    long requests = requestCount();
    return requests == 0 ? 1.0 : (double) hitCount / requests;
  }

  /** Returns misses divided by requests, or 0.0 when there were no requests. */
  public double missRate() {
    long requests = requestCount();
    return requests == 0 ? 0.0 : (double) missCount / requests;
  }

  /** Returns successful plus failed loads. */
  public long loadCount() {
    return saturatedAdd(loadSuccessCount, loadFailureCount);
  }

  /** Returns the mean nanoseconds per load, or 0.0 when nothing was loaded. */
  public double averageLoadPenaltyNanos() {
    long loads = loadCount();
    return loads == 0 ? 0.0 : (double) totalLoadTimeNanos / loads;
  }

  /** Returns this snapshot minus {@code other}, each counter floored at zero. */
  public CacheStats minus(CacheStats other) {
    return new CacheStats(
        Math.max(0, hitCount - other.hitCount),
        Math.max(0, missCount - other.missCount),
        Math.max(0, putCount - other.putCount),
        Math.max(0, loadSuccessCount - other.loadSuccessCount),
        Math.max(0, loadFailureCount - other.loadFailureCount),
        Math.max(0, totalLoadTimeNanos - other.totalLoadTimeNanos),
        Math.max(0, evictionCount - other.evictionCount));
  }

  /** Returns the sum of this snapshot and {@code other}, saturating at {@link Long#MAX_VALUE}. */
  public CacheStats plus(CacheStats other) {
    return new CacheStats(
        saturatedAdd(hitCount, other.hitCount),
        saturatedAdd(missCount, other.missCount),
        saturatedAdd(putCount, other.putCount),
        saturatedAdd(loadSuccessCount, other.loadSuccessCount),
        saturatedAdd(loadFailureCount, other.loadFailureCount),
        saturatedAdd(totalLoadTimeNanos, other.totalLoadTimeNanos),
        saturatedAdd(evictionCount, other.evictionCount));
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  private static void requireNonNegative(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, was " + value);
    }
  }
}
