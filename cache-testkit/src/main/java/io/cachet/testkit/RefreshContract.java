package io.cachet.testkit;

import static io.cachet.testkit.AbstractCacheContractTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The refreshAfterWrite part of the backend contract: a stale read answers the old value at once
 * and reloads it once, on the cache's executor; or the backend refuses the option when the cache
 * is created.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface RefreshContract extends ContractTopic {

  /**
   * Creates a cache that refreshes entries older than two units and expires them after eight, its
   * executor queueing tasks; or returns null after checking that the backend refused the option
   * at creation, naming it.
   */
  private Cache<String, String> refreshingCache() {
    contract().executor.defer();
    Cache<String, String>[] created = newCacheArray();
    Throwable refused = catchThrowable(() -> created[0] = contract().newCache(
        b -> b.refreshAfterWrite(contract().ttlUnit().multipliedBy(2)).expireAfterWrite(contract().ttlUnit().multipliedBy(8))));
    if (refused != null) {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refreshAfterWrite");
      return null;
    }
    return created[0];
  }

  /** A {@code refreshingCache()} holding {@code k = old}, written three units ago (stale); or null. */
  private Cache<String, String> cacheWithStaleEntry() {
    Cache<String, String> cache = refreshingCache();
    if (cache != null) {
      cache.put("k", "old");
      contract().elapse(contract().ttlUnit().multipliedBy(3));
    }
    return cache;
  }

  @SuppressWarnings("unchecked")
  private static Cache<String, String>[] newCacheArray() {
    return (Cache<String, String>[]) new Cache<?, ?>[1];
  }

  @Test
  default void refreshAfterWrite_staleRead_returnsOldValueAtOnceAndReloadsOnceUnderConcurrentReaders() throws Exception {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    CacheStats before = cache.stats();
    AtomicInteger calls = new AtomicInteger();
    Function<String, String> loader = key -> {
      calls.incrementAndGet();
      return "new";
    };
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<String>> reads = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        reads.add(pool.submit(() -> {
          await(start);
          return cache.get("k", loader);
        }));
      }
      start.countDown();
      for (Future<String> read : reads) {
        assertThat(read.get(30, TimeUnit.SECONDS)).isEqualTo("old");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(calls).as("no reader waited for the reload").hasValue(0);
    contract().executor.runPending();
    assertThat(calls).hasValue(1);
    assertThat(cache.get("k")).isEqualTo("new");
    CacheStats delta = cache.stats().minus(before);
    // One for the reload; remote backends also count each read of their store as a load.
    assertThat(delta.loadSuccessCount()).isGreaterThanOrEqualTo(1);
    assertThat(delta.putCount()).isEqualTo(1);
  }

  @Test
  default void refreshAfterWrite_getWithLoader_countsOneHitOrMissAsWithoutRefresh() throws Exception {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    StatsContract.assertAWaiterCounts(contract(), cache, "loaded");
    CacheStats before = cache.stats();
    assertThat(cache.get("k", key -> "not called: fresh")).isEqualTo("loaded");
    contract().elapse(contract().ttlUnit().multipliedBy(3));
    assertThat(cache.get("k", key -> "reloaded")).as("stale: returned as it is").isEqualTo("loaded");
    CacheStats delta = cache.stats().minus(before);
    assertThat(delta.hitCount()).isEqualTo(2);
    assertThat(delta.missCount()).isZero();
  }

  @Test
  default void refreshAfterWrite_freshEntry_isNotReloaded() {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    cache.put("k", "v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k", key -> { throw new AssertionError("reloaded a fresh entry"); })).isEqualTo("v");
    contract().executor.runPending();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  default void refreshAfterWrite_reload_restartsWriteTimeAndExpiry() {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    cache.put("k", "old"); // expires at 8 units unless rewritten
    contract().elapse(contract().ttlUnit().multipliedBy(3));
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    contract().executor.runPending(); // written at 3 units: expires at 11, stale at 5
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k", key -> { throw new AssertionError("reloaded a fresh entry"); })).isEqualTo("new");
    contract().executor.runPending();
    contract().elapse(contract().ttlUnit().multipliedBy(5));
    assertThat(cache.get("k")).as("alive past the first write's deadline").isEqualTo("new");
  }

  @Test
  default void refreshAfterWrite_failingReload_keepsOldValueIsCountedAndRetriedLater() {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    CacheStats before = cache.stats();
    assertThat(cache.get("k", key -> { throw new IllegalStateException("backing store down"); })).isEqualTo("old");
    contract().executor.runPending();
    assertThat(cache.get("k")).isEqualTo("old");
    assertThat(cache.stats().minus(before).loadFailureCount()).isEqualTo(1);
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    contract().executor.runPending();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  default void refreshAfterWrite_nullReload_removesNothing() {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    assertThat(cache.get("k", key -> null)).isEqualTo("old");
    contract().executor.runPending();
    assertThat(cache.get("k")).isEqualTo("old");
  }

  @Test
  default void refreshAfterWrite_entryChangedMeanwhile_reloadDiscarded() {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    cache.put("replaced", "old");
    cache.put("removed", "old");
    contract().elapse(contract().ttlUnit().multipliedBy(3));
    assertThat(cache.get("replaced", key -> "reloaded")).isEqualTo("old");
    assertThat(cache.get("removed", key -> "reloaded")).isEqualTo("old");
    cache.put("replaced", "newer");
    cache.remove("removed");
    contract().executor.runPending();
    assertThat(cache.get("replaced")).isEqualTo("newer");
    assertThat(cache.get("removed")).isNull();
  }

  /** A get(key, loader) that misses while a reload of the key runs waits for it: one load, not two. */
  @Test
  default void refreshAfterWrite_missDuringReload_waitsForTheReloadInsteadOfLoadingAgain() throws Exception {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    assertThat(cache.get("k", key -> "reloaded")).isEqualTo("old");
    // Gone by expiry (a removal would make the miss load afresh: the next test).
    assertThat(cache.expire("k", contract().ttlUnit())).isTrue();
    contract().elapse(contract().ttlUnit().multipliedBy(2));
    AtomicInteger loads = new AtomicInteger();
    assertThat(missWhileTheReloadIsPending(cache, loads)).isEqualTo("reloaded");
    assertThat(loads).hasValue(0);
  }

  @Test
  default void refreshAfterWrite_keyRemovedDuringReload_aMissLoadsAfreshAfterIt() throws Exception {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    assertThat(cache.get("k", key -> "reloaded")).isEqualTo("old");
    // The reload may have read its source before this: its value is not shared. Still queued, it
    // is dropped, so the miss does not wait for it.
    cache.remove("k");
    AtomicInteger loads = new AtomicInteger();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try { // on another thread, bounded: a miss that waited for the deferred reload would never end
      Future<String> miss = pool.submit(() -> cache.get("k", key -> {
        loads.incrementAndGet();
        return "loaded";
      }));
      assertThat(miss.get(30, TimeUnit.SECONDS)).isEqualTo("loaded");
    } finally {
      pool.shutdownNow();
    }
    contract().executor.runPending(); // the dropped reload, should the executor still run it: nothing
    assertThat(loads).hasValue(1);
    assertThat(cache.get("k")).isEqualTo("loaded");
  }

  /**
   * Runs {@code get("k", loader)} on another thread while the reload the test started is still
   * queued; once that caller waits, runs the reload, and returns what the caller got. The loader
   * counts its calls in {@code loads} and returns {@code "loaded"}.
   */
  private String missWhileTheReloadIsPending(Cache<String, String> cache, AtomicInteger loads) throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CompletableFuture<Thread> thread = new CompletableFuture<>();
      Future<String> miss = pool.submit(() -> {
        thread.complete(Thread.currentThread());
        return cache.get("k", key -> {
          loads.incrementAndGet();
          return "loaded";
        });
      });
      Thread missing = thread.get(30, TimeUnit.SECONDS);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> contract().waitsForALoad(missing));
      contract().executor.runPending();
      return miss.get(30, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Without expireAfterWrite, refreshAfterWrite either works or is refused at creation naming both
   * options (backends that tell an entry's age from its remaining time to live).
   */
  @Test
  default void refreshAfterWrite_withoutExpireAfterWrite_worksOrIsRefusedAtCreation() {
    contract().executor.defer();
    Cache<String, String>[] created = newCacheArray();
    Throwable refused = catchThrowable(() -> created[0] = contract().newCache(b -> b.refreshAfterWrite(contract().ttlUnit())));
    if (refused != null) {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("refreshAfterWrite").hasMessageContaining("expireAfterWrite");
      assertThat(contract().manager.cacheNames()).isEmpty();
      return;
    }
    Cache<String, String> cache = created[0];
    cache.put("k", "old");
    contract().elapse(contract().ttlUnit().multipliedBy(2));
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    contract().executor.runPending();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  default void refreshAfterWrite_notShorterThanExpireAfterWrite_refusedAtBuildNamingBoth() {
    assertThatThrownBy(() -> CacheConfig.builder("x")
            .expireAfterWrite(Duration.ofMinutes(1)).refreshAfterWrite(Duration.ofMinutes(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refreshAfterWrite (PT1M)")
        .hasMessageContaining("expireAfterWrite (PT1M)");
  }
}
