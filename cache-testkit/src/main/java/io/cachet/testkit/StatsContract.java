package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheLoadException;
import io.cachet.CacheStats;
import org.junit.jupiter.api.Test;

/**
 * The statistics part of the backend contract: hits, misses, puts and loads are counted, and
 * nothing is when statistics are off.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface StatsContract extends ContractTopic {

  @Test
  default void stats_countHitsMissesAndPuts() {
    Cache<String, String> cache = contract().newCache();
    CacheStats before = cache.stats();
    cache.put("k", "v");
    cache.get("k");
    cache.get("k");
    cache.get("absent");
    CacheStats delta = cache.stats().minus(before);
    assertThat(delta.hitCount()).isEqualTo(2);
    assertThat(delta.missCount()).isEqualTo(1);
    assertThat(delta.putCount()).isEqualTo(1);
  }

  @Test
  default void stats_countLoads() {
    Cache<String, String> cache = contract().newCache();
    cache.get("a", k -> "v");
    try {
      cache.get("b", k -> {
        throw new IllegalStateException("boom");
      });
    } catch (CacheLoadException expected) {
      // counted below
    }
    CacheStats stats = cache.stats();
    assertThat(stats.loadSuccessCount()).isEqualTo(1);
    assertThat(stats.loadFailureCount()).isEqualTo(1);
  }

  @Test
  default void stats_disabled_reportsZeros() {
    Cache<String, String> cache = contract().newCache(b -> b.recordStats(false));
    cache.put("k", "v");
    cache.get("k");
    cache.get("absent");
    assertThat(cache.stats()).isEqualTo(CacheStats.empty());
  }
}
