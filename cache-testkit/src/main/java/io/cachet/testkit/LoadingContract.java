package io.cachet.testkit;

import static io.cachet.testkit.AbstractCacheContractTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.Cache;
import io.cachet.CacheLoadException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The read-through part of the backend contract: {@code get(key, loader)} loads a missing key once
 * for all its concurrent callers (single flight), and hands each caller the outcome.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface LoadingContract extends ContractTopic {

  @Test
  default void getWithLoader_miss_loadsStoresAndReturns() {
    Cache<String, String> cache = contract().newCache();
    AtomicInteger calls = new AtomicInteger();
    assertThat(cache.get("k", key -> key + "-loaded-" + calls.incrementAndGet())).isEqualTo("k-loaded-1");
    assertThat(cache.get("k")).isEqualTo("k-loaded-1");
  }

  @Test
  default void getWithLoader_hit_doesNotCallLoader() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    AtomicInteger calls = new AtomicInteger();
    assertThat(cache.get("k", key -> "loaded-" + calls.incrementAndGet())).isEqualTo("v");
    assertThat(calls).hasValue(0);
  }

  @Test
  default void getWithLoader_loaderReturnsNull_returnsNullAndStoresNothing() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.get("k", key -> null)).isNull();
    assertThat(cache.get("k")).isNull();
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
    assertThat(cache.stats().loadSuccessCount()).isZero();
    assertThat(cache.get("k", key -> "second")).isEqualTo("second");
  }

  @Test
  default void getWithLoader_loaderReturnsNull_waitersGetNullToo() throws Exception {
    Cache<String, String> cache = contract().newCache();
    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> results = concurrentLoads(cache, 4, release, key -> null);
    for (Future<String> result : results) {
      assertThat(result.get(30, TimeUnit.SECONDS)).isNull();
    }
    assertThat(cache.get("k")).isNull();
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
  }

  @Test
  default void getWithLoader_loaderThrowsError_errorUnwrappedForItsCallerWrappedForWaiters() throws Exception {
    Cache<String, String> cache = contract().newCache();
    AssertionError error = new AssertionError("out of stack, say");
    assertThatThrownBy(() -> cache.get("k", key -> { throw error; })).isSameAs(error);
    assertThat(cache.get("k")).isNull();
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);

    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> results = concurrentLoads(cache, 4, release, key -> { throw error; });
    int unwrapped = 0;
    int wrapped = 0;
    for (Future<String> result : results) {
      Throwable thrown = catchThrowable(() -> result.get(30, TimeUnit.SECONDS));
      assertThat(thrown).isInstanceOf(ExecutionException.class);
      Throwable cause = thrown.getCause();
      if (cause == error) {
        unwrapped++;
      } else {
        assertThat(cause).isInstanceOf(CacheLoadException.class).hasCause(error).hasMessageContaining("'k'");
        wrapped++;
      }
    }
    assertThat(unwrapped).isEqualTo(1);
    assertThat(wrapped).isEqualTo(3);
    assertThat(cache.get("k")).isNull();
    assertThat(cache.get("k", key -> "after")).isEqualTo("after");
  }

  @Test
  default void getWithLoader_loaderThrows_waitersGetTheSameLoadFailure() throws Exception {
    Cache<String, String> cache = contract().newCache();
    IllegalStateException boom = new IllegalStateException("boom");
    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> results = concurrentLoads(cache, 4, release, key -> { throw boom; });
    for (Future<String> result : results) {
      assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(CacheLoadException.class)
          .hasCause(boom);
    }
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
  }

  @Test
  default void getWithLoader_recursiveLoadOfTheSameKey_rejected() {
    Cache<String, String> cache = contract().newCache();
    assertThatThrownBy(() -> cache.get("k", key -> cache.get("k", again -> "inner")))
        .isInstanceOf(CacheLoadException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("recursive load of key 'k'");
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void getWithLoader_keyRemovedWhileLoading_loadedValueNotLeftInTheCache() throws Exception {
    Cache<String, String> cache = contract().newCache();
    assertThat(loadAcross(cache, () -> cache.remove("k"))).isEqualTo("read before the change");
    assertThat(cache.get("k")).as("the value the removal outdated").isNull();
  }

  @Test
  default void getWithLoader_cacheClearedWhileLoading_loadedValueNotLeftInTheCache() throws Exception {
    Cache<String, String> cache = contract().newCache();
    assertThat(loadAcross(cache, cache::clear)).isEqualTo("read before the change");
    assertThat(cache.get("k")).as("the value the clear outdated").isNull();
  }

  @Test
  default void getWithLoader_afterARemovalThatOvertookALoad_loadsAfreshInsteadOfJoiningIt() throws Exception {
    Cache<String, String> cache = contract().newCache();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<String> old = pool.submit(() -> cache.get("k", key -> {
        entered.countDown();
        await(release);
        return "read before the change";
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      cache.remove("k"); // an application changed its source, then removed the key
      // The second caller finds the first load in flight; it must not share its outdated value.
      CompletableFuture<String> fresh =
          contract().callUntilItWaitsForALoad(() -> cache.get("k", key -> "read after the change"));
      release.countDown();
      assertThat(old.get(30, TimeUnit.SECONDS)).isEqualTo("read before the change");
      assertThat(fresh.get(30, TimeUnit.SECONDS)).isEqualTo("read after the change");
      assertThat(cache.get("k")).isEqualTo("read after the change");
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  /**
   * A value written while the loader ran is newer than the loaded one; should it be gone again when
   * the load ends (here it expired; an eviction is the same), the loaded value must not take its
   * place.
   */
  @Test
  default void getWithLoader_keyWrittenWhileLoadingThenGone_loadedValueNotLeftInTheCache() throws Exception {
    Cache<String, String> cache = contract().newCache();
    String got = loadAcross(cache, () -> {
      cache.put("k", "written while loading", contract().ttlUnit());
      contract().elapse(contract().ttlUnit());
    });
    assertThat(got).isEqualTo("read before the change");
    assertThat(cache.get("k")).as("the value the write outdated").isNull();
  }

  /** A write while the loader ran wins, even of the very value the loader returns: never undone. */
  @Test
  default void getWithLoader_keyWrittenWithTheLoadedValueWhileLoading_writeStays() throws Exception {
    Cache<String, String> cache = contract().newCache();
    String got = loadAcross(cache, () -> cache.put("k", "read before the change")); // the same instance
    assertThat(got).isEqualTo("read before the change");
    assertThat(cache.get("k")).as("the value put while the load ran").isEqualTo("read before the change");
  }

  @Test
  default void getWithLoader_otherKeyRemovedWhileLoading_loadedValueStored() throws Exception {
    Cache<String, String> cache = contract().newCache();
    assertThat(loadAcross(cache, () -> cache.remove("other"))).isEqualTo("read before the change");
    assertThat(cache.get("k")).isEqualTo("read before the change");
  }

  /**
   * Runs {@code get("k", loader)} on another thread whose loader returns only after
   * {@code meanwhile} ran on this one (an application changing its source, then removing the key);
   * returns what the load returned.
   */
  private String loadAcross(Cache<String, String> cache, Runnable meanwhile) throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<String> load = pool.submit(() -> cache.get("k", key -> {
        entered.countDown();
        await(release);
        return "read before the change";
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      meanwhile.run();
      release.countDown();
      return load.get(30, TimeUnit.SECONDS);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  default void getWithLoader_waiterInterrupted_failsWithFlagSetWhileTheLoadGoesOn() throws Exception {
    Cache<String, String> cache = contract().newCache();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<String> owner = pool.submit(() -> cache.get("k", key -> {
        entered.countDown();
        await(release);
        return "loaded";
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Throwable> waiterOutcome = new CompletableFuture<>();
      Thread waiter = new Thread(() -> {
        try {
          cache.get("k", key -> "not mine");
          waiterOutcome.complete(null);
        } catch (Throwable t) {
          waiterOutcome.complete(Thread.currentThread().isInterrupted() ? t : new AssertionError("flag not set", t));
        }
      });
      waiter.start();
      // The waiter parks on the owner's load; interrupt it once it is waiting.
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> contract().waitsForALoad(waiter));
      waiter.interrupt();
      assertThat(waiterOutcome.get(30, TimeUnit.SECONDS))
          .isInstanceOf(CacheLoadException.class)
          .hasCauseInstanceOf(InterruptedException.class);
      release.countDown();
      assertThat(owner.get(30, TimeUnit.SECONDS)).isEqualTo("loaded");
      assertThat(cache.get("k")).isEqualTo("loaded");
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  /**
   * Starts {@code threads} concurrent {@code get("k", loader)} calls whose first loader waits for
   * {@code release}, releases it once every other caller is waiting, and returns their outcomes.
   */
  private List<Future<String>> concurrentLoads(
      Cache<String, String> cache, int threads, CountDownLatch release, Function<String, String> then)
      throws InterruptedException {
    CountDownLatch entered = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    Function<String, String> loader =
        key -> {
          calls.incrementAndGet();
          entered.countDown();
          await(release);
          return then.apply(key);
        };
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<String>> results = new ArrayList<>();
    List<Thread> callers = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int i = 0; i < threads; i++) {
      results.add(pool.submit(() -> {
        callers.add(Thread.currentThread());
        return cache.get("k", loader);
      }));
    }
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
    // Everyone but the loader's thread waits for its load before it finishes.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> callers.size() == threads
            && callers.stream().filter(contract()::waitsForALoad).count() == threads - 1);
    release.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    assertThat(calls).hasValue(1);
    return results;
  }

  @Test
  default void getWithLoader_loaderThrows_wrapsCauseCachesNothingAndRetries() {
    Cache<String, String> cache = contract().newCache();
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(() -> cache.get("k", key -> { throw boom; }))
        .isInstanceOf(CacheLoadException.class)
        .hasCause(boom)
        .hasMessageContaining("'k'");
    assertThat(cache.get("k")).isNull();
    assertThat(cache.get("k", key -> "second")).isEqualTo("second");
  }

  @Test
  default void getWithLoader_concurrentMisses_callTheLoaderOnce() throws Exception {
    Cache<String, String> cache = contract().newCache();
    int threads = 8;
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch loaderEntered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Function<String, String> loader =
        key -> {
          calls.incrementAndGet();
          loaderEntered.countDown();
          await(release);
          return "loaded";
        };
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        results.add(pool.submit(() -> cache.get("k", loader)));
      }
      assertThat(loaderEntered.await(30, TimeUnit.SECONDS)).isTrue();
      release.countDown();
      for (Future<String> result : results) {
        assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo("loaded");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(calls).hasValue(1);
  }
}
