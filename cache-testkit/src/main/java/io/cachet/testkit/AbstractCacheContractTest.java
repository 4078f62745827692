package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.CacheManager;
import io.cachet.CacheStats;
import io.cachet.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The behaviour every Cachet backend must show, as one JUnit 5 suite.
 *
 * <p>A backend's test extends this class and says how to configure a cache of its kind:
 *
 * <pre>{@code
 * final class LruCacheContractTest extends AbstractCacheContractTest {
 *   @Override
 *   protected void configure(CacheConfig.Builder<String, String> builder) {
 *     builder.evictionPolicy(EvictionPolicy.LRU);
 *   }
 * }
 * }</pre>
 *
 * <p>Caches are built with a {@link FakeTicker} (as both ticker and clock) and a same-thread
 * executor (which the refresh cases switch to queueing, to see a reload before it runs); expiry tests call {@link #elapse(Duration)}, which advances the ticker. Backends whose
 * expiry is decided elsewhere (a server's clock) override {@link #elapse(Duration)} and
 * {@link #ttlUnit()}. Keys and values are strings.
 */
public abstract class AbstractCacheContractTest {

  /** The fake time every cache of this suite reads. */
  protected final FakeTicker ticker = new FakeTicker();

  /** The manager of this test's caches, closed after each test. */
  protected CacheManager manager;

  private final AtomicInteger names = new AtomicInteger();
  private final DeferringExecutor executor = new DeferringExecutor();

  /** Sets the backend and its options on {@code builder}; must not set the ticker, clock or executor. */
  protected abstract void configure(CacheConfig.Builder<String, String> builder);

  /** Returns the manager the caches are created in; a default manager unless overridden. */
  protected CacheManager createManager() {
    return CacheManager.create();
  }

  /** Lets {@code duration} pass for the caches under test; advances the fake ticker by default. */
  protected void elapse(Duration duration) {
    ticker.advance(duration);
  }

  /** The unit of the expiry tests' durations; one minute unless a backend needs real time. */
  protected Duration ttlUnit() {
    return Duration.ofMinutes(1);
  }

  @BeforeEach
  void createManagerForTest() {
    manager = createManager();
  }

  @AfterEach
  void closeManager() {
    manager.close();
  }

  /** Creates a cache of the backend under test, after applying {@code options}. */
  protected Cache<String, String> newCache(Consumer<CacheConfig.Builder<String, String>> options) {
    CacheConfig.Builder<String, String> builder =
        CacheConfig.builder(getClass().getSimpleName() + "-" + names.incrementAndGet())
            .ticker(ticker)
            .clock(ticker)
            .executor(executor);
    options.accept(builder);
    configure(builder);
    return manager.create(builder.build());
  }

  /** Creates a cache of the backend under test with default options. */
  protected Cache<String, String> newCache() {
    return newCache(b -> {});
  }

  // ------------------------------------------------------------ basic operations

  @Test
  void get_missing_returnsNull() {
    Cache<String, String> cache = newCache();
    assertThat(cache.get("absent")).isNull();
  }

  @Test
  void put_thenGet_returnsValue() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void put_existingKey_replacesValue() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v1");
    cache.put("k", "v2");
    assertThat(cache.get("k")).isEqualTo("v2");
  }

  @Test
  void getAll_returnsOnlyPresentKeys() {
    Cache<String, String> cache = newCache();
    cache.put("a", "1");
    cache.put("c", "3");
    assertThat(cache.getAll(List.of("a", "b", "c"))).containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "c", "3"));
  }

  @Test
  void putAll_storesEveryEntry() {
    Cache<String, String> cache = newCache();
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("a", "1");
    entries.put("b", "2");
    cache.putAll(entries);
    assertThat(cache.get("a")).isEqualTo("1");
    assertThat(cache.get("b")).isEqualTo("2");
  }

  @Test
  void clear_removesEveryEntry() {
    Cache<String, String> cache = newCache();
    cache.put("a", "1");
    cache.put("b", "2");
    cache.clear();
    assertThat(cache.get("a")).isNull();
    assertThat(cache.get("b")).isNull();
    assertThat(cache.estimatedSize()).isZero();
  }

  @Test
  void name_isTheConfiguredName() {
    Cache<String, String> cache = newCache();
    assertThat(cache.name()).isEqualTo(cache.config().name());
    assertThat(manager.getCache(cache.name(), String.class, String.class)).isSameAs(cache);
  }

  // ------------------------------------------------------------ conditional operations

  @Test
  void putIfAbsent_absentKey_storesAndReturnsTrue() {
    Cache<String, String> cache = newCache();
    assertThat(cache.putIfAbsent("k", "v")).isTrue();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void putIfAbsent_presentKey_keepsExistingAndReturnsFalse() {
    Cache<String, String> cache = newCache();
    cache.put("k", "old");
    assertThat(cache.putIfAbsent("k", "new")).isFalse();
    assertThat(cache.get("k")).isEqualTo("old");
  }

  @Test
  void putIfAbsent_expiredKey_stores() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit()));
    cache.put("k", "old");
    elapse(ttlUnit());
    assertThat(cache.putIfAbsent("k", "new")).isTrue();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void replace_presentKey_replaces() {
    Cache<String, String> cache = newCache();
    cache.put("k", "old");
    assertThat(cache.replace("k", "new")).isTrue();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void replace_absentKey_storesNothing() {
    Cache<String, String> cache = newCache();
    assertThat(cache.replace("k", "new")).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void replaceCompareAndSet_matchingValue_replaces() {
    Cache<String, String> cache = newCache();
    cache.put("k", "old");
    assertThat(cache.replace("k", "old", "new")).isTrue();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void replaceCompareAndSet_otherValue_keepsCurrent() {
    Cache<String, String> cache = newCache();
    cache.put("k", "current");
    assertThat(cache.replace("k", "stale", "new")).isFalse();
    assertThat(cache.get("k")).isEqualTo("current");
  }

  @Test
  void replaceCompareAndSet_absentKey_storesNothing() {
    Cache<String, String> cache = newCache();
    assertThat(cache.replace("k", "old", "new")).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void remove_presentKey_removesAndReturnsTrue() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThat(cache.remove("k")).isTrue();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void remove_absentKey_returnsFalse() {
    Cache<String, String> cache = newCache();
    assertThat(cache.remove("k")).isFalse();
  }

  @Test
  void removeConditional_matchingValue_removes() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThat(cache.remove("k", "v")).isTrue();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void removeConditional_otherValue_keepsEntry() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThat(cache.remove("k", "other")).isFalse();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  // ------------------------------------------------------------ expiry

  @Test
  void expireAfterWrite_entryExpiresAtItsDeadline() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit().multipliedBy(2)));
    cache.put("k", "v");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expireAfterWrite_rewriteRestartsTheClock() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit().multipliedBy(2)));
    cache.put("k", "v1");
    elapse(ttlUnit());
    cache.put("k", "v2");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v2");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expireAfterWrite_readsDoNotExtendLife() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit().multipliedBy(2)));
    cache.put("k", "v");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void putWithTtl_shorterThanGlobal_expiresAtItsOwnDeadline() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit().multipliedBy(10)));
    cache.put("short", "v", ttlUnit());
    cache.put("long", "v");
    elapse(ttlUnit());
    assertThat(cache.get("short")).isNull();
    assertThat(cache.get("long")).isEqualTo("v");
  }

  @Test
  void putWithTtl_longerThanGlobal_outlivesGlobal() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit()));
    cache.put("k", "v", ttlUnit().multipliedBy(3));
    elapse(ttlUnit().multipliedBy(2));
    assertThat(cache.get("k")).isEqualTo("v");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void putWithoutTtl_afterPutWithTtl_usesGlobalExpiryAgain() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit().multipliedBy(3)));
    cache.put("k", "v1", ttlUnit());
    cache.put("k", "v2");
    elapse(ttlUnit().multipliedBy(2));
    assertThat(cache.get("k")).isEqualTo("v2");
  }

  @Test
  void expire_liveEntry_changesRemainingTime() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThat(cache.expire("k", ttlUnit())).isTrue();
    assertThat(cache.get("k")).isEqualTo("v");
    elapse(ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expire_canExtendLife() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit()));
    cache.put("k", "v");
    assertThat(cache.expire("k", ttlUnit().multipliedBy(3))).isTrue();
    elapse(ttlUnit().multipliedBy(2));
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void expire_zero_expiresNow() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThat(cache.expire("k", Duration.ZERO)).isTrue();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expire_absentKey_returnsFalse() {
    Cache<String, String> cache = newCache();
    assertThat(cache.expire("k", ttlUnit())).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expire_expiredKey_returnsFalse() {
    Cache<String, String> cache = newCache(b -> b.expireAfterWrite(ttlUnit()));
    cache.put("k", "v");
    elapse(ttlUnit());
    assertThat(cache.expire("k", ttlUnit())).isFalse();
  }

  @Test
  void putWithTtl_zeroOrNegative_throwsNamingTtl() {
    Cache<String, String> cache = newCache();
    assertThatThrownBy(() -> cache.put("k", "v", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be > 0, was PT0S");
    assertThatThrownBy(() -> cache.put("k", "v", Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be > 0, was PT-1S");
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expire_negative_throwsNamingTtl() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    assertThatThrownBy(() -> cache.expire("k", Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be >= 0, was PT-0.005S");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void perEntryTtlDisabled_ttlOperationsThrowIllegalState() {
    Cache<String, String> cache = newCache(b -> b.perEntryTtl(false));
    cache.put("k", "v");
    assertThatThrownBy(() -> cache.put("k", "other", ttlUnit()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("perEntryTtl(false)");
    assertThatThrownBy(() -> cache.expire("k", ttlUnit()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("perEntryTtl(false)");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  // ------------------------------------------------------------ read-through

  @Test
  void getWithLoader_miss_loadsStoresAndReturns() {
    Cache<String, String> cache = newCache();
    AtomicInteger calls = new AtomicInteger();
    assertThat(cache.get("k", key -> key + "-loaded-" + calls.incrementAndGet())).isEqualTo("k-loaded-1");
    assertThat(cache.get("k")).isEqualTo("k-loaded-1");
  }

  @Test
  void getWithLoader_hit_doesNotCallLoader() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    AtomicInteger calls = new AtomicInteger();
    assertThat(cache.get("k", key -> "loaded-" + calls.incrementAndGet())).isEqualTo("v");
    assertThat(calls).hasValue(0);
  }

  @Test
  void getWithLoader_loaderReturnsNull_returnsNullAndStoresNothing() {
    Cache<String, String> cache = newCache();
    assertThat(cache.get("k", key -> null)).isNull();
    assertThat(cache.get("k")).isNull();
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
    assertThat(cache.stats().loadSuccessCount()).isZero();
    assertThat(cache.get("k", key -> "second")).isEqualTo("second");
  }

  @Test
  void getWithLoader_loaderReturnsNull_waitersGetNullToo() throws Exception {
    Cache<String, String> cache = newCache();
    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> results = concurrentLoads(cache, 4, release, key -> null);
    for (Future<String> result : results) {
      assertThat(result.get(30, TimeUnit.SECONDS)).isNull();
    }
    assertThat(cache.get("k")).isNull();
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
  }

  @Test
  void getWithLoader_loaderThrowsError_errorUnwrappedForItsCallerWrappedForWaiters() throws Exception {
    Cache<String, String> cache = newCache();
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
  void getWithLoader_loaderThrows_waitersGetTheSameLoadFailure() throws Exception {
    Cache<String, String> cache = newCache();
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
  void getWithLoader_recursiveLoadOfTheSameKey_rejected() {
    Cache<String, String> cache = newCache();
    assertThatThrownBy(() -> cache.get("k", key -> cache.get("k", again -> "inner")))
        .isInstanceOf(CacheLoadException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("recursive load of key 'k'");
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void getWithLoader_waiterInterrupted_failsWithFlagSetWhileTheLoadGoesOn() throws Exception {
    Cache<String, String> cache = newCache();
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
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> waitsForALoad(waiter));
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

  /** Returns the messages of {@code t} and its causes, one per line. */
  private static String messages(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      all.append(c.getMessage()).append('\n');
    }
    return all.toString();
  }

  /**
   * Returns whether {@code thread} is parked waiting for another caller's load: by default, inside
   * the SPI skeleton's single flight ({@code io.cachet.spi.AbstractCache}). A backend that does not
   * extend it overrides this to recognise its own wait.
   */
  protected boolean waitsForALoad(Thread thread) {
    if (thread.getState() != Thread.State.WAITING) {
      return false;
    }
    for (StackTraceElement frame : thread.getStackTrace()) {
      if (frame.getClassName().equals("io.cachet.spi.AbstractCache") && frame.getMethodName().equals("await")) {
        return true;
      }
    }
    return false;
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
            && callers.stream().filter(this::waitsForALoad).count() == threads - 1);
    release.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    assertThat(calls).hasValue(1);
    return results;
  }

  @Test
  void getWithLoader_loaderThrows_wrapsCauseCachesNothingAndRetries() {
    Cache<String, String> cache = newCache();
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(() -> cache.get("k", key -> { throw boom; }))
        .isInstanceOf(CacheLoadException.class)
        .hasCause(boom)
        .hasMessageContaining("'k'");
    assertThat(cache.get("k")).isNull();
    assertThat(cache.get("k", key -> "second")).isEqualTo("second");
  }

  @Test
  void getWithLoader_concurrentMisses_callTheLoaderOnce() throws Exception {
    Cache<String, String> cache = newCache();
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

  // ------------------------------------------------------------ idle expiry

  /**
   * {@code expireAfterAccess} either works (a read keeps an entry alive, idleness expires it) or
   * is refused when the cache is created, naming the option; never accepted and ignored.
   */
  @Test
  void expireAfterAccess_worksOrIsRefusedAtCreation() {
    Duration idle = ttlUnit().multipliedBy(2);
    Throwable refused = catchThrowable(() -> newCache(b -> b.expireAfterAccess(idle)));
    if (refused != null) {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expireAfterAccess");
      return;
    }
    Cache<String, String> cache = manager.getCache(
        manager.cacheNames().iterator().next(), String.class, String.class);
    cache.put("read", "1");
    cache.put("idle", "2");
    for (int i = 0; i < 3; i++) {
      elapse(ttlUnit());
      assertThat(cache.get("read")).isEqualTo("1");
    }
    assertThat(cache.get("idle")).isNull();
    elapse(idle.plus(ttlUnit()));
    assertThat(cache.get("read")).isNull();
  }

  @Test
  void expireAfterAccess_withPerEntryTtlAskedFor_refusedAtBuild() {
    assertThatThrownBy(() -> CacheConfig.builder("x").perEntryTtl(true).expireAfterAccess(Duration.ofMinutes(1)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expireAfterAccess does not combine with per-entry TTLs");
  }

  // ------------------------------------------------------------ refresh

  /**
   * Creates a cache that refreshes entries older than two units and expires them after eight, its
   * executor queueing tasks; or returns null after checking that the backend refused the option
   * at creation, naming it.
   */
  private Cache<String, String> refreshingCache() {
    executor.defer();
    Cache<String, String>[] created = newCacheArray();
    Throwable refused = catchThrowable(() -> created[0] = newCache(
        b -> b.refreshAfterWrite(ttlUnit().multipliedBy(2)).expireAfterWrite(ttlUnit().multipliedBy(8))));
    if (refused != null) {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refreshAfterWrite");
      return null;
    }
    return created[0];
  }

  /** A {@link #refreshingCache()} holding {@code k = old}, written three units ago (stale); or null. */
  private Cache<String, String> cacheWithStaleEntry() {
    Cache<String, String> cache = refreshingCache();
    if (cache != null) {
      cache.put("k", "old");
      elapse(ttlUnit().multipliedBy(3));
    }
    return cache;
  }

  @SuppressWarnings("unchecked")
  private static Cache<String, String>[] newCacheArray() {
    return (Cache<String, String>[]) new Cache<?, ?>[1];
  }

  @Test
  void refreshAfterWrite_staleRead_returnsOldValueAtOnceAndReloadsOnceUnderConcurrentReaders() throws Exception {
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
    executor.runPending();
    assertThat(calls).hasValue(1);
    assertThat(cache.get("k")).isEqualTo("new");
    CacheStats delta = cache.stats().minus(before);
    // One for the reload; remote backends also count each read of their store as a load.
    assertThat(delta.loadSuccessCount()).isGreaterThanOrEqualTo(1);
    assertThat(delta.putCount()).isEqualTo(1);
  }

  @Test
  void refreshAfterWrite_freshEntry_isNotReloaded() {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    cache.put("k", "v");
    elapse(ttlUnit());
    assertThat(cache.get("k", key -> { throw new AssertionError("reloaded a fresh entry"); })).isEqualTo("v");
    executor.runPending();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void refreshAfterWrite_reload_restartsWriteTimeAndExpiry() {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    cache.put("k", "old"); // expires at 8 units unless rewritten
    elapse(ttlUnit().multipliedBy(3));
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    executor.runPending(); // written at 3 units: expires at 11, stale at 5
    elapse(ttlUnit());
    assertThat(cache.get("k", key -> { throw new AssertionError("reloaded a fresh entry"); })).isEqualTo("new");
    executor.runPending();
    elapse(ttlUnit().multipliedBy(5));
    assertThat(cache.get("k")).as("alive past the first write's deadline").isEqualTo("new");
  }

  @Test
  void refreshAfterWrite_failingReload_keepsOldValueIsCountedAndRetriedLater() {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    CacheStats before = cache.stats();
    assertThat(cache.get("k", key -> { throw new IllegalStateException("backing store down"); })).isEqualTo("old");
    executor.runPending();
    assertThat(cache.get("k")).isEqualTo("old");
    assertThat(cache.stats().minus(before).loadFailureCount()).isEqualTo(1);
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    executor.runPending();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void refreshAfterWrite_nullReload_removesNothing() {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    assertThat(cache.get("k", key -> null)).isEqualTo("old");
    executor.runPending();
    assertThat(cache.get("k")).isEqualTo("old");
  }

  @Test
  void refreshAfterWrite_entryChangedMeanwhile_reloadDiscarded() {
    Cache<String, String> cache = refreshingCache();
    if (cache == null) {
      return;
    }
    cache.put("replaced", "old");
    cache.put("removed", "old");
    elapse(ttlUnit().multipliedBy(3));
    assertThat(cache.get("replaced", key -> "reloaded")).isEqualTo("old");
    assertThat(cache.get("removed", key -> "reloaded")).isEqualTo("old");
    cache.put("replaced", "newer");
    cache.remove("removed");
    executor.runPending();
    assertThat(cache.get("replaced")).isEqualTo("newer");
    assertThat(cache.get("removed")).isNull();
  }

  /** A get(key, loader) that misses while a reload of the key runs waits for it: one load, not two. */
  @Test
  void refreshAfterWrite_missDuringReload_waitsForTheReloadInsteadOfLoadingAgain() throws Exception {
    Cache<String, String> cache = cacheWithStaleEntry();
    if (cache == null) {
      return;
    }
    assertThat(cache.get("k", key -> "reloaded")).isEqualTo("old");
    cache.remove("k");
    AtomicInteger loads = new AtomicInteger();
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
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> waitsForALoad(missing));
      executor.runPending();
      assertThat(miss.get(30, TimeUnit.SECONDS)).isEqualTo("reloaded");
    } finally {
      pool.shutdownNow();
    }
    assertThat(loads).hasValue(0);
  }

  /**
   * Without expireAfterWrite, refreshAfterWrite either works or is refused at creation naming both
   * options (backends that tell an entry's age from its remaining time to live).
   */
  @Test
  void refreshAfterWrite_withoutExpireAfterWrite_worksOrIsRefusedAtCreation() {
    executor.defer();
    Cache<String, String>[] created = newCacheArray();
    Throwable refused = catchThrowable(() -> created[0] = newCache(b -> b.refreshAfterWrite(ttlUnit())));
    if (refused != null) {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("refreshAfterWrite").hasMessageContaining("expireAfterWrite");
      assertThat(manager.cacheNames()).isEmpty();
      return;
    }
    Cache<String, String> cache = created[0];
    cache.put("k", "old");
    elapse(ttlUnit().multipliedBy(2));
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    executor.runPending();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void refreshAfterWrite_notShorterThanExpireAfterWrite_refusedAtBuildNamingBoth() {
    assertThatThrownBy(() -> CacheConfig.builder("x")
            .expireAfterWrite(Duration.ofMinutes(1)).refreshAfterWrite(Duration.ofMinutes(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refreshAfterWrite (PT1M)")
        .hasMessageContaining("expireAfterWrite (PT1M)");
  }

  // ------------------------------------------------------------ getAll with a bulk loader

  @Test
  void getAllWithLoader_loadsTheMissingKeysInOneCallAndStoresThem() {
    Cache<String, String> cache = newCache();
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
  void getAllWithLoader_keysLeftOutStayAbsent_extraEntriesAreStored() {
    Cache<String, String> cache = newCache();
    Map<String, String> result = cache.getAll(List.of("a", "b"), keys -> Map.of("a", "A", "z", "Z"));
    assertThat(result).containsExactly(Map.entry("a", "A"));
    assertThat(cache.get("b")).isNull();
    assertThat(cache.get("z")).isEqualTo("Z");
  }

  @Test
  void getAllWithLoader_allPresent_doesNotCallTheLoader() {
    Cache<String, String> cache = newCache();
    cache.put("a", "1");
    assertThat(cache.getAll(List.of("a"), keys -> { throw new AssertionError("called for " + keys); }))
        .containsExactly(Map.entry("a", "1"));
  }

  @Test
  void getAllWithLoader_loaderThrowsOrReturnsNull_failsStoresNothingAndRetries() {
    Cache<String, String> cache = newCache();
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
  void getAllWithLoader_keyBeingLoadedByAnother_isWaitedForNotLoadedTwice() throws Exception {
    Cache<String, String> cache = newCache();
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
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> waitsForALoad(bulker));
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
  void getAllWithLoader_nullArguments_rejected() {
    Cache<String, String> cache = newCache();
    assertThatThrownBy(() -> cache.getAll(null, keys -> Map.of())).isInstanceOf(NullPointerException.class).hasMessage("keys");
    assertThatThrownBy(() -> cache.getAll(List.of("a"), null)).isInstanceOf(NullPointerException.class).hasMessage("bulkLoader");
    assertThatThrownBy(() -> cache.getAll(java.util.Arrays.asList("a", null), keys -> Map.of()))
        .isInstanceOf(NullPointerException.class);
  }

  // ------------------------------------------------------------ bad input

  /**
   * A key its codec cannot represent (a lone surrogate has no UTF-8 form) is either refused with an
   * error naming its position, or kept exactly; it never aliases another key ({@code "?"}).
   */
  @Test
  void keyWithoutAnEncoding_refusedNamingItsPosition_neverAliased() {
    Cache<String, String> cache = newCache();
    cache.put("?", "question mark");
    String lone = "a\uD800";
    Throwable refused = catchThrowable(() -> cache.put(lone, "lone surrogate"));
    if (refused != null) {
      assertThat(refused).isInstanceOfAny(IllegalArgumentException.class, io.cachet.CacheException.class);
      assertThat(messages(refused)).contains("index 1");
      // A read of it is refused too, or finds nothing.
      Throwable read = catchThrowable(() -> assertThat(cache.get(lone)).isNull());
      if (read != null) {
        assertThat(read).isNotInstanceOf(AssertionError.class);
        assertThat(messages(read)).contains("index 1");
      }
    } else {
      assertThat(cache.get(lone)).isEqualTo("lone surrogate");
    }
    assertThat(cache.get("a?")).isNull();
    assertThat(cache.get("?")).isEqualTo("question mark");
  }

  @Test
  void nullKey_everyOperationThrowsNamingKey() {
    Cache<String, String> cache = newCache();
    List<Executable> calls =
        List.of(
            () -> cache.get(null),
            () -> cache.get(null, k -> "v"),
            () -> cache.put(null, "v"),
            () -> cache.put(null, "v", ttlUnit()),
            () -> cache.putIfAbsent(null, "v"),
            () -> cache.replace(null, "v"),
            () -> cache.replace(null, "a", "b"),
            () -> cache.remove(null),
            () -> cache.remove(null, "v"),
            () -> cache.expire(null, ttlUnit()),
            () -> cache.async().get(null));
    for (Executable call : calls) {
      assertThatThrownBy(call::execute).isInstanceOf(NullPointerException.class).hasMessage("key");
    }
    assertThat(cache.estimatedSize()).isZero();
  }

  @Test
  void nullValue_everyWriteThrowsNamingValue() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    List<Executable> calls =
        List.of(
            () -> cache.put("k", null),
            () -> cache.put("k", null, ttlUnit()),
            () -> cache.putIfAbsent("other", null),
            () -> cache.replace("k", null),
            () -> cache.async().put("k", null));
    for (Executable call : calls) {
      assertThatThrownBy(call::execute).isInstanceOf(NullPointerException.class).hasMessage("value");
    }
    assertThatThrownBy(() -> cache.replace("k", null, "x")).isInstanceOf(NullPointerException.class).hasMessage("oldValue");
    assertThatThrownBy(() -> cache.replace("k", "v", null)).isInstanceOf(NullPointerException.class).hasMessage("newValue");
    assertThatThrownBy(() -> cache.get("k", null)).isInstanceOf(NullPointerException.class).hasMessage("loader");
    assertThat(cache.get("k")).isEqualTo("v");
    assertThat(cache.get("other")).isNull();
  }

  // ------------------------------------------------------------ lifecycle

  @Test
  void close_everyOperationThenThrowsIllegalState() {
    Cache<String, String> cache = newCache();
    cache.put("k", "v");
    cache.close();
    assertThat(cache.isClosed()).isTrue();
    List<Executable> calls =
        List.of(
            () -> cache.get("k"),
            () -> cache.get("k", k -> "v"),
            () -> cache.getAll(List.of("k")),
            () -> cache.put("k", "v"),
            () -> cache.put("k", "v", ttlUnit()),
            () -> cache.putAll(Map.of("k", "v")),
            () -> cache.putIfAbsent("k", "v"),
            () -> cache.replace("k", "v"),
            () -> cache.replace("k", "v", "w"),
            () -> cache.remove("k"),
            () -> cache.remove("k", "v"),
            () -> cache.expire("k", ttlUnit()),
            cache::clear,
            cache::estimatedSize,
            cache::stats,
            cache::async);
    for (Executable call : calls) {
      assertThatThrownBy(call::execute).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
  }

  @Test
  void close_isIdempotentAndForgetsTheCache() {
    Cache<String, String> cache = newCache();
    String name = cache.name();
    cache.close();
    cache.close();
    assertThat(manager.cacheNames()).doesNotContain(name);
    assertThat(manager.getCache(name, String.class, String.class)).isNull();
    Cache<String, String> again = manager.create(cache.config());
    assertThat(again.get("k")).isNull();
  }

  @Test
  void managerClose_closesItsCaches() {
    Cache<String, String> cache = newCache();
    manager.close();
    assertThat(cache.isClosed()).isTrue();
    assertThatThrownBy(() -> cache.get("k")).isInstanceOf(IllegalStateException.class);
  }

  // ------------------------------------------------------------ statistics

  @Test
  void stats_countHitsMissesAndPuts() {
    Cache<String, String> cache = newCache();
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
  void stats_countLoads() {
    Cache<String, String> cache = newCache();
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
  void stats_disabled_reportsZeros() {
    Cache<String, String> cache = newCache(b -> b.recordStats(false));
    cache.put("k", "v");
    cache.get("k");
    cache.get("absent");
    assertThat(cache.stats()).isEqualTo(CacheStats.empty());
  }

  // ------------------------------------------------------------ async view

  @Test
  void async_roundTrip() throws Exception {
    Cache<String, String> cache = newCache();
    AsyncCache<String, String> async = cache.async();
    async.put("k", "v").toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(async.get("k").toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo("v");
    assertThat(async.putIfAbsent("k", "x").toCompletableFuture().get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(async.replace("k", "v", "w").toCompletableFuture().get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(async.getAll(List.of("k", "absent")).toCompletableFuture().get(30, TimeUnit.SECONDS))
        .containsExactlyEntriesOf(Map.of("k", "w"));
    assertThat(async.remove("k").toCompletableFuture().get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(cache.get("k")).isNull();
    assertThat(async.sync()).isSameAs(cache);
  }

  /** Waits for {@code latch}, failing the test after a generous deadline instead of hanging it. */
  protected static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for a latch");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
