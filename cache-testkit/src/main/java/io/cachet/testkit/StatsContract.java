package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheLoadException;
import io.cachet.CacheStats;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The statistics part of the backend contract: hits, misses, puts and loads are counted, and
 * nothing is when statistics are off. {@code get(key, loader)} counts as Caffeine's
 * {@code get(key, mappingFunction)} does: a hit when it returns a value it did not load, one miss
 * when it loads (or takes a load that found nothing or failed).
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

  @Test
  default void stats_getWithLoader_countsAHitOrOneMiss() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    CacheStats before = cache.stats();

    assertThat(cache.get("k", key -> "not called")).isEqualTo("v");
    CacheStats afterHit = cache.stats().minus(before);
    assertThat(cache.get("absent", key -> "loaded")).isEqualTo("loaded");
    assertThat(cache.get("nothing", key -> null)).isNull();
    CacheStats delta = cache.stats().minus(before);

    assertThat(afterHit.hitCount()).isEqualTo(1);
    assertThat(afterHit.missCount()).isZero();
    assertThat(delta.hitCount()).isEqualTo(1);
    assertThat(delta.missCount()).as("one per load, not one more per lookup").isEqualTo(2);
  }

  @Test
  default void stats_aCallerThatTakesAnotherCallersLoad_countsAHitNotAMiss() throws Exception {
    assertAWaiterCounts(contract(), contract().newCache(), "loaded");
  }

  @Test
  default void stats_aCallerThatWaitedForALoadThatFoundNothing_countsAMiss() throws Exception {
    assertAWaiterCounts(contract(), contract().newCache(), null);
  }

  /**
   * One caller loads {@code k} (its loader returns {@code loaded}) while a second asks for it and
   * waits for that load: the loader counts a miss, the second caller a hit if the load returned a
   * value and a miss if not, as with Caffeine.
   */
  static void assertAWaiterCounts(AbstractCacheContractTest contract, Cache<String, String> cache,
      @Nullable String loaded) throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CacheStats before = cache.stats();
      Future<@Nullable String> loading = pool.submit(() -> cache.get("k", key -> {
        entered.countDown();
        AbstractCacheContractTest.await(release);
        return loaded;
      }));
      AbstractCacheContractTest.await(entered);
      CompletableFuture<@Nullable String> waiting =
          contract.callUntilItWaitsForALoad(() -> cache.get("k", key -> "a second load"));
      release.countDown();
      assertThat(loading.get(30, TimeUnit.SECONDS)).isEqualTo(loaded);
      assertThat(waiting.get(30, TimeUnit.SECONDS)).isEqualTo(loaded);
      CacheStats delta = cache.stats().minus(before);
      if (loaded != null) {
        assertThat(delta.missCount()).as("misses: the caller that loaded").isEqualTo(1);
        assertThat(delta.hitCount()).as("hits: the caller that took its value").isEqualTo(1);
        assertThat(delta.loadSuccessCount()).isEqualTo(1);
      } else {
        assertThat(delta.missCount()).as("misses: both callers, neither got a value").isEqualTo(2);
        assertThat(delta.hitCount()).isZero();
        assertThat(delta.loadFailureCount()).isEqualTo(1);
      }
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }
}
