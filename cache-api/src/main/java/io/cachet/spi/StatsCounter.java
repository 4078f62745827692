package io.cachet.spi;

import io.cachet.CacheStats;
import java.util.concurrent.atomic.LongAdder;

/** Accumulates a cache's statistics; thread-safe and cheap under contention. */
public interface StatsCounter {

  /** Returns a counter backed by {@link LongAdder}s. */
  static StatsCounter concurrent() {
    return new ConcurrentStatsCounter();
  }

  /** Returns a counter that records nothing and always reports {@link CacheStats#empty()}. */
  static StatsCounter disabled() {
    return DisabledStatsCounter.INSTANCE;
  }

  /** Records {@code count} lookups that found a value. */
  void recordHits(int count);

  /** Records {@code count} lookups that found none. */
  void recordMisses(int count);

  /** Records {@code count} stored values. */
  void recordPuts(int count);

  /** Records a load that produced a value after {@code nanos}. */
  void recordLoadSuccess(long nanos);

  /** Records a load that failed or produced nothing after {@code nanos}. */
  void recordLoadFailure(long nanos);

  /** Records {@code count} entries removed by the cache itself. */
  void recordEvictions(int count);

  /** Returns the counts so far. */
  CacheStats snapshot();
}

enum DisabledStatsCounter implements StatsCounter {
  INSTANCE;

  @Override
  public void recordHits(int count) {}

  @Override
  public void recordMisses(int count) {}

  @Override
  public void recordPuts(int count) {}

  @Override
  public void recordLoadSuccess(long nanos) {}

  @Override
  public void recordLoadFailure(long nanos) {}

  @Override
  public void recordEvictions(int count) {}

  @Override
  public CacheStats snapshot() {
    return CacheStats.empty();
  }
}

final class ConcurrentStatsCounter implements StatsCounter {

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder puts = new LongAdder();
  private final LongAdder loadSuccesses = new LongAdder();
  private final LongAdder loadFailures = new LongAdder();
  private final LongAdder loadTime = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  @Override
  public void recordHits(int count) {
    hits.add(count);
  }

  @Override
  public void recordMisses(int count) {
    misses.add(count);
  }

  @Override
  public void recordPuts(int count) {
    puts.add(count);
  }

  @Override
  public void recordLoadSuccess(long nanos) {
    loadSuccesses.increment();
    loadTime.add(nanos);
  }

  @Override
  public void recordLoadFailure(long nanos) {
    loadFailures.increment();
    loadTime.add(nanos);
  }

  @Override
  public void recordEvictions(int count) {
    evictions.add(count);
  }

  @Override
  public CacheStats snapshot() {
    return new CacheStats(
        Math.max(0, hits.sum()),
        Math.max(0, misses.sum()),
        Math.max(0, puts.sum()),
        Math.max(0, loadSuccesses.sum()),
        Math.max(0, loadFailures.sum()),
        Math.max(0, loadTime.sum()),
        Math.max(0, evictions.sum()));
  }
}
