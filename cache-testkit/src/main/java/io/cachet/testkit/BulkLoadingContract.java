package io.cachet.testkit;

import static io.cachet.testkit.AbstractCacheContractTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import io.cachet.CacheLoadException;
import io.cachet.CacheStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bulk-loading part of the backend contract: {@code getAll(keys, bulkLoader)} loads only the
 * missing keys, in one call, and waits for keys another caller is loading.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface BulkLoadingContract extends ContractTopic {

  @Test
  default void getAllWithLoader_keyRemovedWhileLoading_itsLoadedValueNotLeftInTheCache() throws Exception {
    Cache<String, String> cache = contract().newCache();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Map<String, String>> load = pool.submit(() -> cache.getAll(List.of("a", "b"), keys -> {
        entered.countDown();
        await(release);
        return Map.of("a", "old a", "b", "old b");
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      cache.remove("a");
      release.countDown();
      assertThat(load.get(30, TimeUnit.SECONDS)).containsExactly(Map.entry("a", "old a"), Map.entry("b", "old b"));
      assertThat(cache.get("a")).as("the value the removal outdated").isNull();
      assertThat(cache.get("b")).isEqualTo("old b");
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  default void getAllWithLoader_loadsTheMissingKeysInOneCallAndStoresThem() {
    Cache<String, String> cache = contract().newCache();
    cache.put("a", "1");
    List<java.util.Set<? extends String>> calls = new ArrayList<>();
    Map<String, String> result = cache.getAll(List.of("a", "b", "c", "b"), keys -> {
      calls.add(java.util.Set.copyOf(keys));
      Map<String, String> loaded = new LinkedHashMap<>();
      keys.forEach(k -> loaded.put(k, "loaded-" + k));
      return loaded;
    });
    assertThat(calls).containsExactly(java.util.Set.of("b", "c"));
    assertThat(result).containsExactly(Map.entry("a", "1"), Map.entry("b", "loaded-b"), Map.entry("c", "loaded-c"));
    assertThat(cache.get("b")).isEqualTo("loaded-b");
    assertThat(cache.get("c")).isEqualTo("loaded-c");
    // One for the bulk call; remote backends also count each key they read from their store.
    assertThat(cache.stats().loadSuccessCount()).isGreaterThanOrEqualTo(1);
  }

  @Test
  default void getAllWithLoader_keysLeftOutStayAbsent_extraEntriesAreStored() {
    Cache<String, String> cache = contract().newCache();
    Map<String, String> result = cache.getAll(List.of("a", "b"), keys -> Map.of("a", "A", "z", "Z"));
    assertThat(result).containsExactly(Map.entry("a", "A"));
    assertThat(cache.get("b")).isNull();
    assertThat(cache.get("z")).isEqualTo("Z");
  }

  @Test
  default void getAllWithLoader_allPresent_doesNotCallTheLoader() {
    Cache<String, String> cache = contract().newCache();
    cache.put("a", "1");
    assertThat(cache.getAll(List.of("a"), keys -> { throw new AssertionError("called for " + keys); }))
        .containsExactly(Map.entry("a", "1"));
  }

  @Test
  default void getAllWithLoader_loaderThrowsOrReturnsNull_failsStoresNothingAndRetries() {
    Cache<String, String> cache = contract().newCache();
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(() -> cache.getAll(List.of("a", "b"), keys -> { throw boom; }))
        .isInstanceOf(CacheLoadException.class)
        .hasCause(boom);
    assertThatThrownBy(() -> cache.getAll(List.of("a"), keys -> null))
        .isInstanceOf(CacheLoadException.class)
        .hasMessageContaining("returned null");
    assertThat(cache.get("a")).isNull();
    assertThat(cache.stats().loadFailureCount()).isEqualTo(2);
    assertThat(cache.getAll(List.of("a"), keys -> Map.of("a", "A"))).containsExactly(Map.entry("a", "A"));
  }

  @Test
  default void getAllWithLoader_keyBeingLoadedByAnother_isWaitedForNotLoadedTwice() throws Exception {
    Cache<String, String> cache = contract().newCache();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<String> single = pool.submit(() -> cache.get("b", key -> {
        entered.countDown();
        await(release);
        return "single-b";
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      List<java.util.Set<? extends String>> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
      CompletableFuture<Thread> bulkThread = new CompletableFuture<>();
      Future<Map<String, String>> bulk = pool.submit(() -> {
        bulkThread.complete(Thread.currentThread());
        return cache.getAll(List.of("a", "b"), keys -> {
          calls.add(java.util.Set.copyOf(keys));
          Map<String, String> loaded = new LinkedHashMap<>();
          keys.forEach(k -> loaded.put(k, "bulk-" + k));
          return loaded;
        });
      });
      Thread bulker = bulkThread.get(30, TimeUnit.SECONDS);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> contract().waitsForALoad(bulker));
      release.countDown();
      assertThat(single.get(30, TimeUnit.SECONDS)).isEqualTo("single-b");
      assertThat(bulk.get(30, TimeUnit.SECONDS))
          .containsExactly(Map.entry("a", "bulk-a"), Map.entry("b", "single-b"));
      assertThat(calls).containsExactly(java.util.Set.of("a"));
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  default void getAllWithLoader_afterARemovalThatOvertookABulkLoad_loadsTheKeyAfresh() throws Exception {
    Cache<String, String> cache = contract().newCache();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    CacheStats before = cache.stats();
    try {
      Future<Map<String, String>> old = pool.submit(() -> cache.getAll(List.of("a"), keys -> {
        entered.countDown();
        await(release);
        return Map.of("a", "read before the change");
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      cache.remove("a"); // an application changed its source, then removed the key
      CompletableFuture<Map<String, String>> fresh = contract().callUntilItWaitsForALoad(
          () -> cache.getAll(List.of("a"), keys -> Map.of("a", "read after the change")));
      release.countDown();
      assertThat(old.get(30, TimeUnit.SECONDS)).containsExactly(Map.entry("a", "read before the change"));
      assertThat(fresh.get(30, TimeUnit.SECONDS)).containsExactly(Map.entry("a", "read after the change"));
      CacheStats delta = cache.stats().minus(before);
      assertThat(delta.missCount()).as("one per getAll, counted at its lookup").isEqualTo(2);
      assertThat(delta.hitCount()).isZero();
      assertThat(cache.get("a")).isEqualTo("read after the change");
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  default void getAllWithLoader_loaderReturnsANullValue_failsNamingTheKeyAndStoresNothing() {
    Cache<String, String> cache = contract().newCache();
    Map<String, String> loaded = new LinkedHashMap<>();
    loaded.put("a", "1");
    loaded.put("b", null); // map.put(key, repository.find(key)) for a row that is gone
    assertThatThrownBy(() -> cache.getAll(List.of("a", "b"), keys -> loaded))
        .isInstanceOf(CacheLoadException.class)
        .hasMessageContaining("null value for key 'b'");
    assertThat(cache.get("a")).isNull();
    assertThat(cache.getAll(List.of("a", "b"), keys -> Map.of("a", "2", "b", "3")))
        .as("nothing left in flight").containsExactly(Map.entry("a", "2"), Map.entry("b", "3"));
  }

  @Test
  default void getAllWithLoader_nullArguments_rejected() {
    Cache<String, String> cache = contract().newCache();
    assertThatThrownBy(() -> cache.getAll(null, keys -> Map.of())).isInstanceOf(NullPointerException.class).hasMessage("keys");
    assertThatThrownBy(() -> cache.getAll(List.of("a"), null)).isInstanceOf(NullPointerException.class).hasMessage("bulkLoader");
    assertThatThrownBy(() -> cache.getAll(java.util.Arrays.asList("a", null), keys -> Map.of()))
        .isInstanceOf(NullPointerException.class);
  }
}
