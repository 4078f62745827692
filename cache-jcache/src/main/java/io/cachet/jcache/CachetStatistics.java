package io.cachet.jcache;

import io.cachet.Ticker;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import javax.cache.management.CacheStatisticsMXBean;
import org.jspecify.annotations.Nullable;

/**
 * The JCache statistics of one cache, registered as its {@code CacheStatistics} MXBean while
 * statistics are enabled. Records nothing while disabled. Thread-safe.
 *
 * <p>Times are recorded in nanoseconds and reported in microseconds, as JCache asks.
 */
final class CachetStatistics implements CacheStatisticsMXBean {

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder puts = new LongAdder();
  private final LongAdder removals = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder getTimeNanos = new LongAdder();
  private final LongAdder putTimeNanos = new LongAdder();
  private final LongAdder removeTimeNanos = new LongAdder();
  private volatile boolean enabled;

  CachetStatistics(boolean enabled) {
    this.enabled = enabled;
  }

  boolean isEnabled() {
    return enabled;
  }

  void enable(boolean enabled) {
    this.enabled = enabled;
  }

  /** The times an operation records. */
  enum Timing {
    GET, PUT, REMOVE, GET_AND_PUT, GET_AND_REMOVE
  }

  /** Runs {@code operation} and, when it succeeds and statistics are on, records its time on {@code timer}. */
  <R> R timed(Ticker timer, Timing timing, Supplier<R> operation) {
    if (!enabled) {
      return operation.get();
    }
    long start = timer.read();
    R result = operation.get();
    long elapsed = timer.read() - start;
    switch (timing) {
      case GET -> recordGetTime(elapsed);
      case PUT -> recordPutTime(elapsed);
      case REMOVE -> recordRemoveTime(elapsed);
      case GET_AND_PUT -> {
        recordGetTime(elapsed);
        recordPutTime(elapsed);
      }
      case GET_AND_REMOVE -> {
        recordGetTime(elapsed);
        recordRemoveTime(elapsed);
      }
    }
    return result;
  }

  /** Counts a lookup's hit (an entry) or miss ({@code null}); returns {@code entry}. */
  <T> @Nullable T counted(@Nullable T entry) {
    if (entry != null) {
      recordHits(1);
    } else {
      recordMisses(1);
    }
    return entry;
  }

  void recordHits(long count) {
    if (enabled && count > 0) {
      hits.add(count);
    }
  }

  void recordMisses(long count) {
    if (enabled && count > 0) {
      misses.add(count);
    }
  }

  void recordPuts(long count) {
    if (enabled && count > 0) {
      puts.add(count);
    }
  }

  void recordRemovals(long count) {
    if (enabled && count > 0) {
      removals.add(count);
    }
  }

  void recordEvictions(long count) {
    if (enabled && count > 0) {
      evictions.add(count);
    }
  }

  void recordGetTime(long nanos) {
    if (enabled) {
      getTimeNanos.add(Math.max(0, nanos));
    }
  }

  void recordPutTime(long nanos) {
    if (enabled) {
      putTimeNanos.add(Math.max(0, nanos));
    }
  }

  void recordRemoveTime(long nanos) {
    if (enabled) {
      removeTimeNanos.add(Math.max(0, nanos));
    }
  }

  @Override
  public void clear() {
    hits.reset();
    misses.reset();
    puts.reset();
    removals.reset();
    evictions.reset();
    getTimeNanos.reset();
    putTimeNanos.reset();
    removeTimeNanos.reset();
  }

  @Override
  public long getCacheHits() {
    return hits.sum();
  }

  @Override
  public float getCacheHitPercentage() {
    long gets = getCacheGets();
    return gets == 0 ? 0f : getCacheHits() * 100f / gets;
  }

  @Override
  public long getCacheMisses() {
    return misses.sum();
  }

  @Override
  public float getCacheMissPercentage() {
    long gets = getCacheGets();
    return gets == 0 ? 0f : getCacheMisses() * 100f / gets;
  }

  @Override
  public long getCacheGets() {
    return getCacheHits() + getCacheMisses();
  }

  @Override
  public long getCachePuts() {
    return puts.sum();
  }

  @Override
  public long getCacheRemovals() {
    return removals.sum();
  }

  @Override
  public long getCacheEvictions() {
    return evictions.sum();
  }

  @Override
  public float getAverageGetTime() {
    return averageMicros(getTimeNanos.sum(), getCacheGets());
  }

  @Override
  public float getAveragePutTime() {
    return averageMicros(putTimeNanos.sum(), getCachePuts());
  }

  @Override
  public float getAverageRemoveTime() {
    return averageMicros(removeTimeNanos.sum(), getCacheRemovals());
  }

  private static float averageMicros(long totalNanos, long count) {
    return count == 0 ? 0f : (totalNanos / 1_000f) / count;
  }
}
