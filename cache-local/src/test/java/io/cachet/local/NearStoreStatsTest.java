package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.EvictionPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A near cache's store counts puts and evictions but not reads (its owner counts the reads it
 * serves); a standalone cache counts them all.
 */
final class NearStoreStatsTest {

  private static CacheConfig<String, String> config(EvictionPolicy policy) {
    return CacheConfig.builder("near-store")
        .evictionPolicy(policy)
        .maximumSize(2)
        .executor(Runnable::run)
        .build();
  }

  /** Three puts into two slots, then a hit and a miss. */
  private static CacheStats exercise(Cache<String, String> cache) {
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("c", "3");
    if (cache instanceof TinyLfuCache<String, String> tinyLfu) {
      tinyLfu.cleanUp(); // Caffeine evicts in its maintenance
    }
    String hit = cache.get("c");
    String miss = cache.get("absent");
    assertThat(hit).isEqualTo("3");
    assertThat(miss).isNull();
    return cache.stats();
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void nearStore_countsPutsAndEvictions_notReads(EvictionPolicy policy) {
    try (Cache<String, String> store = LocalCacheProvider.createNearStore(config(policy))) {
      CacheStats stats = exercise(store);

      assertThat(stats.hitCount()).isZero();
      assertThat(stats.missCount()).isZero();
      assertThat(stats.putCount()).isEqualTo(3);
      assertThat(stats.evictionCount()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void standaloneCache_countsReadsToo(EvictionPolicy policy) {
    try (Cache<String, String> cache = LocalCacheProvider.createStandalone(config(policy))) {
      CacheStats stats = exercise(cache);

      assertThat(stats.hitCount()).isEqualTo(1);
      assertThat(stats.missCount()).isEqualTo(1);
      assertThat(stats.putCount()).isEqualTo(3);
      assertThat(stats.evictionCount()).isEqualTo(1);
    }
  }
}
