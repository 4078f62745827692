package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import io.cachet.RemovalCause;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/** Behaviour of both local policies beyond the backend contract: listeners, bounds, unwrap. */
final class LocalCacheTest {

  private final FakeTicker ticker = new FakeTicker();
  private final CacheManager manager = CacheManager.create();
  private final List<String> removals = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    manager.close();
  }

  private Cache<String, String> cache(EvictionPolicy policy, Consumer<CacheConfig.Builder> options) {
    CacheConfig.Builder builder =
        CacheConfig.builder("local-" + policy)
            .evictionPolicy(policy)
            .ticker(ticker)
            .executor(Runnable::run);
    options.accept(builder);
    return manager.create(builder.build());
  }

  private static void cleanUp(Cache<String, String> cache) {
    if (cache instanceof TinyLfuCache<String, String> tinyLfu) {
      tinyLfu.cleanUp();
    } else {
      ((LruCache<String, String>) cache).cleanUp();
    }
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void removalListener_reportsEachCause(EvictionPolicy policy) {
    Cache<String, String> cache =
        cache(
            policy,
            b -> b.maximumSize(100).removalListener((k, v, cause) -> removals.add(k + "=" + v + ":" + cause)));
    cache.put("explicit", "1");
    cache.remove("explicit");
    cache.put("replaced", "1");
    cache.put("replaced", "2");
    cache.put("expired", "1", Duration.ofMinutes(1));
    ticker.advance(Duration.ofMinutes(1));
    assertThat(cache.get("expired")).isNull();
    cleanUp(cache);
    assertThat(removals)
        .containsExactlyInAnyOrder(
            "explicit=1:" + RemovalCause.EXPLICIT,
            "replaced=1:" + RemovalCause.REPLACED,
            "expired=1:" + RemovalCause.EXPIRED);
  }

  /**
   * A removal made before close() is reported even when the executor runs the notice after it (as
   * a pool does); the entries close() itself drops are not.
   */
  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void removalBeforeClose_isReportedOnceTheExecutorRuns_theEntriesCloseDropsAreNot(EvictionPolicy policy) {
    Queue<Runnable> tasks = new ArrayDeque<>();
    Cache<String, String> cache = manager.create(CacheConfig.builder("closing-" + policy)
        .evictionPolicy(policy).ticker(ticker).executor(tasks::add)
        .removalListener((k, v, cause) -> removals.add(k + ":" + cause)).build());
    cache.put("removed", "v");
    cache.put("kept", "v");
    assertThat(cache.remove("removed")).isTrue();

    cache.close();
    for (Runnable task; (task = tasks.poll()) != null; ) {
      task.run();
    }

    assertThat(removals).containsExactly("removed:" + RemovalCause.EXPLICIT);
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void getAll_aKeyNamedTwice_countsOneHitOrMiss_asCaffeineDoes(EvictionPolicy policy) {
    Cache<String, String> cache = cache(policy, b -> b.recordStats(true));
    cache.put("present", "v");

    assertThat(cache.getAll(List.of("present", "absent", "present", "absent")))
        .containsExactly(Map.entry("present", "v"));

    assertThat(cache.stats().hitCount()).isEqualTo(1);
    assertThat(cache.stats().missCount()).isEqualTo(1);
  }

  /**
   * An expired entry that an explicit removal or {@code clear()} takes away is reported as expired
   * and counted as an eviction, as Caffeine counts it (its {@code remove} and {@code invalidateAll}
   * record an eviction for every removal whose cause was an eviction).
   */
  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void removeOrClearOfAnExpiredEntry_reportsExpired_andCountsAnEviction_asCaffeineDoes(EvictionPolicy policy) {
    Cache<String, String> cache = cache(policy, b -> b.recordStats(true)
        .removalListener((k, v, cause) -> removals.add(k + ":" + cause)));
    cache.put("removed", "v", Duration.ofMinutes(1));
    cache.put("cleared", "v", Duration.ofMinutes(1));
    ticker.advance(Duration.ofMinutes(1));

    assertThat(cache.remove("removed")).isFalse();
    cache.clear();

    assertThat(removals).containsExactlyInAnyOrder("removed:" + RemovalCause.EXPIRED, "cleared:" + RemovalCause.EXPIRED);
    assertThat(cache.stats().evictionCount()).isEqualTo(2);
    assertThat(cache.estimatedSize()).isZero();
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void cleanUpOfAnExpiredEntry_countsAnEviction(EvictionPolicy policy) {
    Cache<String, String> cache = cache(policy, b -> b.recordStats(true)
        .removalListener((k, v, cause) -> removals.add(k + ":" + cause)));
    cache.put("expired", "v", Duration.ofMinutes(1));
    ticker.advance(Duration.ofMinutes(1));

    cleanUp(cache);

    assertThat(removals).containsExactly("expired:" + RemovalCause.EXPIRED);
    assertThat(cache.stats().evictionCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void removalListener_reportsSizeEvictions(EvictionPolicy policy) {
    Cache<String, String> cache =
        cache(policy, b -> b.maximumSize(2).removalListener((k, v, cause) -> removals.add(cause.name())));
    for (int i = 0; i < 5; i++) {
      cache.put("k" + i, "v");
      cleanUp(cache);
    }
    assertThat(cache.estimatedSize()).isEqualTo(2);
    assertThat(removals).hasSize(3).containsOnly(RemovalCause.SIZE.name());
    assertThat(cache.stats().evictionCount()).isEqualTo(3);
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void throwingListener_isLoggedAtWarnAndTheCacheKeepsWorking(EvictionPolicy policy) {
    Logger logger = (Logger) LoggerFactory.getLogger(AbstractLocalCache.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      Cache<String, String> cache =
          cache(policy, b -> b.removalListener((k, v, cause) -> {
            throw new IllegalStateException("listener boom");
          }));
      cache.put("k", "v1");
      cache.put("k", "v2");
      assertThat(cache.remove("k")).isTrue();
      cache.put("k", "v3");
      assertThat(cache.get("k")).isEqualTo("v3");
      assertThat(appender.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .hasSize(2)
          .allSatisfy(e -> {
            assertThat(e.getFormattedMessage()).contains("Removal listener of cache 'local-" + policy + "' threw");
            assertThat(e.getThrowableProxy().getMessage()).isEqualTo("listener boom");
          });
    } finally {
      logger.detachAppender(appender);
    }
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void listenerThrowingAnError_isLogged_andEveryOtherRemovalIsStillReported(EvictionPolicy policy) {
    Logger logger = (Logger) LoggerFactory.getLogger(AbstractLocalCache.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      List<String> told = new CopyOnWriteArrayList<>();
      Cache<String, String> cache = cache(policy, b -> b.removalListener((k, v, cause) -> {
        told.add(k + "=" + v + ":" + cause);
        throw new AssertionError("listener error");
      }));
      cache.put("k", "v1");
      cache.put("k", "v2");
      cache.put("a", "1");
      cache.put("b", "2");
      cache.clear();

      assertThat(told).containsExactlyInAnyOrder("k=v1:REPLACED", "k=v2:EXPLICIT", "a=1:EXPLICIT", "b=2:EXPLICIT");
      assertThat(cache.estimatedSize()).isZero();
      assertThat(appender.list).filteredOn(e -> e.getLevel() == Level.WARN).hasSize(4)
          .allSatisfy(e -> assertThat(e.getThrowableProxy().getMessage()).isEqualTo("listener error"));
    } finally {
      logger.detachAppender(appender);
    }
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void writingTheSameInstanceAgain_isNoReplacement(EvictionPolicy policy) {
    List<RemovalCause> told = new CopyOnWriteArrayList<>();
    Cache<String, String> cache = cache(policy, b -> b.removalListener((k, v, cause) -> told.add(cause)));
    String value = "v";
    cache.put("k", value);
    cache.put("k", value);
    assertThat(cache.replace("k", value)).isTrue();
    assertThat(cache.replace("k", value, value)).isTrue();
    cache.put("k", value, Duration.ofMinutes(1));

    assertThat(told).as("Caffeine reports no replacement of a value by itself").isEmpty();
    cache.put("k", new String("v"));
    assertThat(told).containsExactly(RemovalCause.REPLACED);
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void recursiveLoadOfTheSameKey_failsInsteadOfDeadlocking(EvictionPolicy policy) {
    Cache<String, String> cache = cache(policy, b -> {});
    assertThatThrownBy(() -> cache.get("k", k -> cache.get("k", k2 -> "inner")))
        .isInstanceOf(CacheLoadException.class)
        .hasRootCauseInstanceOf(IllegalStateException.class);
    assertThat(cache.get("k")).isNull();
    assertThat(cache.get("k", k -> "later")).isEqualTo("later");
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void unwrap_unrelatedType_throwsNamingIt(EvictionPolicy policy) {
    Cache<String, String> cache = cache(policy, b -> {});
    assertThat(cache.unwrap(Cache.class)).isSameAs(cache);
    assertThatThrownBy(() -> cache.unwrap(String.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.String");
  }

  @Test
  void tinyLfu_unwrapsToTheCaffeineCache() {
    Cache<String, String> cache = cache(EvictionPolicy.TINY_LFU, b -> {});
    cache.put("k", "v");
    @SuppressWarnings("unchecked")
    com.github.benmanes.caffeine.cache.Cache<String, String> caffeine =
        cache.unwrap(com.github.benmanes.caffeine.cache.Cache.class);
    assertThat(caffeine.getIfPresent("k")).isEqualTo("v");
  }

  @Test
  void lru_sizeNeverExceedsCapacityAfterAnyWrite() {
    Cache<String, String> cache = cache(EvictionPolicy.LRU, b -> b.maximumSize(7));
    for (int i = 0; i < 1_000; i++) {
      cache.put("k" + (i % 50), "v" + i);
      assertThat(cache.estimatedSize()).isLessThanOrEqualTo(7);
      cache.putIfAbsent("p" + (i % 13), "v");
      assertThat(cache.estimatedSize()).isLessThanOrEqualTo(7);
    }
  }

  @Test
  void lru_recencyOrderFollowsReadsAndWrites() {
    LruCache<String, String> cache =
        (LruCache<String, String>) cache(EvictionPolicy.LRU, b -> b.maximumSize(3));
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("c", "3");
    cache.get("a");
    assertThat(cache.keysInRecencyOrder()).containsExactly("b", "c", "a");
    cache.put("b", "22");
    assertThat(cache.keysInRecencyOrder()).containsExactly("c", "a", "b");
    cache.put("d", "4");
    assertThat(cache.keysInRecencyOrder()).containsExactly("a", "b", "d");
    assertThat(cache.get("c")).isNull();
  }

  @Test
  void lru_missesAndExpireDoNotChangeRecency() {
    LruCache<String, String> cache =
        (LruCache<String, String>) cache(EvictionPolicy.LRU, b -> b.maximumSize(3));
    cache.put("a", "1");
    cache.put("b", "2");
    cache.get("absent");
    cache.expire("a", Duration.ofMinutes(5));
    assertThat(cache.keysInRecencyOrder()).containsExactly("a", "b");
  }

  /**
   * An LRU without a bound (the JCache provider's default) takes entries: its recency heap is
   * sized from the bound, which must not overflow.
   */
  @Test
  void lru_withoutABound_takesEntries() {
    LruCache<String, String> cache =
        (LruCache<String, String>) cache(EvictionPolicy.LRU, b -> b.maximumSize(Long.MAX_VALUE));
    for (int i = 0; i < 100; i++) {
      cache.put("k" + i, "v" + i);
    }
    assertThat(cache.estimatedSize()).isEqualTo(100);
    assertThat(cache.get("k0")).isEqualTo("v0");
    assertThat(cache.keysInRecencyOrder()).startsWith("k1").endsWith("k0");
  }

  /**
   * A key written without a deadline has a plain node, which cannot hold one; a TTL given later
   * (by a put or by expire) puts a node that can in its place, keeping the value and, for expire,
   * the recency.
   */
  @Test
  void lru_aTtlGivenToAKeyWrittenWithoutOne_expiresIt() {
    LruCache<String, String> cache =
        (LruCache<String, String>) cache(EvictionPolicy.LRU, b -> b.maximumSize(3));
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("a", "3", Duration.ofSeconds(10)); // a write: "a" is now the most recent
    cache.put("c", "4");
    assertThat(cache.expire("b", Duration.ofSeconds(5))).isTrue(); // not a use: "b" stays first
    assertThat(cache.keysInRecencyOrder()).containsExactly("b", "a", "c");
    ticker.advance(Duration.ofSeconds(6));
    assertThat(cache.get("b")).isNull();
    assertThat(cache.get("a")).isEqualTo("3");
    ticker.advance(Duration.ofSeconds(5));
    assertThat(cache.get("a")).isNull();
    cache.put("c", "5"); // back to no deadline: a plain overwrite
    ticker.advance(Duration.ofDays(1));
    assertThat(cache.get("c")).isEqualTo("5");
    assertThat(cache.estimatedSize()).isEqualTo(1);
  }

  @Test
  void lru_expiredHeadIsReportedAsExpiredNotSize() {
    Cache<String, String> cache =
        cache(EvictionPolicy.LRU, b -> b.maximumSize(2).removalListener((k, v, cause) -> removals.add(k + ":" + cause)));
    cache.put("a", "1", Duration.ofSeconds(1));
    cache.put("b", "2");
    ticker.advance(Duration.ofSeconds(1));
    cache.put("c", "3");
    assertThat(removals).containsExactly("a:" + RemovalCause.EXPIRED);
  }

  @Test
  void lru_zeroCapacity_storesNothing() {
    Cache<String, String> cache = cache(EvictionPolicy.LRU, b -> b.maximumSize(0));
    cache.put("k", "v");
    assertThat(cache.get("k")).isNull();
    assertThat(cache.estimatedSize()).isZero();
  }

  @Test
  void lru_readingManyTimesBeyondTheBufferKeepsExactOrder() {
    LruCache<String, String> cache =
        (LruCache<String, String>) cache(EvictionPolicy.LRU, b -> b.maximumSize(3));
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("c", "3");
    // Many reads, ending with b then a.
    for (int i = 0; i < 5_000; i++) {
      cache.get(i % 2 == 0 ? "c" : "b");
    }
    cache.get("a");
    assertThat(cache.keysInRecencyOrder()).containsExactly("c", "b", "a");
  }

  /**
   * A ticker that moves forward by {@code jumpNanos} on its first reading after {@link #arm}: time
   * passing in the middle of an operation, as when its thread is preempted there.
   */
  private static final class JumpingTicker implements io.cachet.Ticker {
    private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong pendingJump = new java.util.concurrent.atomic.AtomicLong();

    @Override
    public long read() {
      long now = nanos.get();
      long jump = pendingJump.getAndSet(0);
      if (jump != 0) {
        nanos.addAndGet(jump); // this reading is the old time; the next ones are later
      }
      return now;
    }

    void advance(Duration by) {
      nanos.addAndGet(by.toNanos());
    }

    void arm(Duration jump) {
      pendingJump.set(jump.toNanos());
    }
  }

  @Test
  void tinyLfu_expire_isOneAtomicStep_evenWhenTheEntryExpiresDuringTheCall() {
    JumpingTicker jumping = new JumpingTicker();
    Cache<String, String> cache = manager.create(CacheConfig.builder("tiny-expire-atomic")
        .evictionPolicy(EvictionPolicy.TINY_LFU)
        .expireAfterWrite(Duration.ofSeconds(10))
        .perEntryTtl(true)
        .ticker(jumping)
        .executor(Runnable::run)
        .recordStats(true)
        .removalListener((k, v, cause) -> removals.add(k + "=" + v + ":" + cause))
        .build());
    cache.put("k", "v");
    assertThat(cache.expire("k", Duration.ofSeconds(20))).isTrue();
    assertThat(removals).as("extending an entry replaces nothing").isEmpty();
    assertThat(cache.stats().putCount()).isEqualTo(1);
    assertThat(cache.expire("absent", Duration.ofSeconds(20))).isFalse();
    assertThat(cache.get("absent")).isNull();
    jumping.advance(Duration.ofSeconds(10)); // 10 s of its 20 left
    jumping.advance(Duration.ofSeconds(10).minusMillis(1));
    // The entry is live when the call starts; its 10 s end while the call runs.
    jumping.arm(Duration.ofMillis(2));

    boolean extended = cache.expire("k", Duration.ofMinutes(1));

    // Either outcome is atomic: extended (and then live for the new minute), or already gone.
    assertThat(cache.get("k")).as("value after expire answered %s", extended).isEqualTo(extended ? "v" : null);
    jumping.advance(Duration.ofSeconds(59));
    assertThat(cache.get("k")).isEqualTo(extended ? "v" : null);
  }
}
