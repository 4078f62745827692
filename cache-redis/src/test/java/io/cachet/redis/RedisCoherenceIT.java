package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheException;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.FakeTicker;
import io.cachet.codec.CodecException;
import io.cachet.metrics.CacheMetrics;
import io.cachet.spi.BackendMetric;
import io.cachet.testkit.redis.RedisServerExtension;
import io.cachet.testkit.redis.RespConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Near-cache coherence and failure behaviour against a real Redis server. */
@Tag("redis")
final class RedisCoherenceIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration DEADLINE = Duration.ofSeconds(15);

  private final FakeTicker ticker = new FakeTicker();
  private final String prefix = "coh-" + UUID.randomUUID() + ":";
  private final CacheManager manager = CacheManager.create();

  @AfterEach
  void tearDown() {
    manager.close();
    if (!REDIS.server().isRunning()) {
      REDIS.server().start();
    }
  }

  private RedisCache<String, String> cache(Consumer<RedisOptions.Builder> options, Consumer<CacheConfig.Builder> config) {
    RedisOptions.Builder redis = RedisOptions.builder().address(REDIS.server().uri()).keyPrefix(prefix);
    options.accept(redis);
    CacheConfig.Builder builder =
        CacheConfig.builder("c-" + UUID.randomUUID()).backend("redis").ticker(ticker).executor(Runnable::run)
            .backendOptions(redis.build());
    config.accept(builder);
    Cache<String, String> cache = manager.create(builder.build());
    return cache.unwrap(RedisCache.class);
  }

  private RedisCache<String, String> trackingCache() {
    RedisCache<String, String> cache = cache(o -> {}, c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    return cache;
  }

  private void set(String key, String value) {
    REDIS.server().command("SET", prefix + key, value);
  }

  /**
   * Writes {@code key} as another client and waits until this cache has processed the write's
   * invalidation, so no late invalidation of it disturbs what the test does next.
   */
  private void setAndAwaitInvalidation(RedisCache<String, String> cache, String key, String value) {
    double before = metric(cache, "cache.near.invalidations");
    set(key, value);
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.invalidations") > before);
  }

  /** Takes the invalidation channel down and keeps it down, so writes by others go unnoticed. */
  private static void holdChannelDown(RedisCache<String, String> cache) {
    TrackingHub hub = cache.hubForTest();
    assertThat(hub).isNotNull();
    hub.dropConnectionsForTest(true);
    await().atMost(DEADLINE).until(() -> !cache.isCoherent());
  }

  private static void releaseChannel(RedisCache<String, String> cache) {
    TrackingHub hub = cache.hubForTest();
    assertThat(hub).isNotNull();
    hub.dropConnectionsForTest(false);
    await().atMost(DEADLINE).until(cache::isCoherent);
  }

  /**
   * Reads {@code key} until the near cache serves it. The invalidation of a write made just before
   * may arrive while the first read is in flight; that read then rightly caches nothing.
   */
  private static void readUntilNearCached(RedisCache<String, String> cache, String key) {
    await().atMost(DEADLINE).until(() -> {
      double hits = metric(cache, "cache.near.hits");
      cache.get(key);
      return metric(cache, "cache.near.hits") > hits;
    });
  }

  /** A backend metric's current value. */
  static double metric(RedisCache<?, ?> cache, String name) {
    return cache.backendMetrics().stream()
        .filter(m -> m.name().equals(name))
        .mapToDouble(m -> m.value().getAsDouble())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name));
  }

  // ------------------------------------------------------------ invalidation

  @Test
  void foreignWrite_invalidatesTheNearCopy() {
    RedisCache<String, String> cache = trackingCache();
    set("k", "v1");
    assertThat(cache.get("k")).isEqualTo("v1");
    readUntilNearCached(cache, "k");

    set("k", "v2");
    await().atMost(DEADLINE).until(() -> "v2".equals(cache.get("k")));
    REDIS.server().command("DEL", prefix + "k");
    await().atMost(DEADLINE).until(() -> cache.get("k") == null);
    assertThat(metric(cache, "cache.near.invalidations")).isGreaterThanOrEqualTo(2);
  }

  @Test
  void readRacingAWrite_neverLeavesTheOldValueCached() throws Exception {
    // A long command timeout: the held read must not time out while the test waits for Redis.
    RedisCache<String, String> cache = cache(o -> o.commandTimeout(Duration.ofSeconds(30)), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    setAndAwaitInvalidation(cache, "k", "old");
    CountDownLatch replied = new CountDownLatch(1);
    CompletableFuture<Void> release = new CompletableFuture<>();
    cache.testHooks(new NearCache.Hooks() {
      @Override
      public CompletionStage<?> beforeCaching(Object key) {
        replied.countDown();
        return release;
      }
    });
    CompletableFuture<String> read = cache.async().get("k").toCompletableFuture();
    assertThat(replied.await(15, TimeUnit.SECONDS)).isTrue();
    cache.testHooks(NearCache.Hooks.NONE); // only the first read is held
    // Redis answered "old"; before the reader caches it, another client writes "new" and its
    // invalidation reaches us.
    setAndAwaitInvalidation(cache, "k", "new");
    // A read that starts now must not join the held, invalidated read: it reads Redis again.
    assertThat(cache.get("k")).isEqualTo("new");
    release.complete(null);

    assertThat(read.get(15, TimeUnit.SECONDS)).isEqualTo("old"); // ordered before the write: fine
    assertThat(cache.get("k")).as("the old value must not have been cached").isEqualTo("new");
  }

  @Test
  void invalidationArrivingWhileAReadStoresItsValue_alwaysWins() {
    RedisCache<String, String> cache = cache(o -> o.commandTimeout(Duration.ofSeconds(30)), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    setAndAwaitInvalidation(cache, "k", "old");
    double before = metric(cache, "cache.near.invalidations");
    AtomicBoolean held = new AtomicBoolean();
    AtomicBoolean staleAfterInvalidation = new AtomicBoolean();
    cache.testHooks(new NearCache.Hooks() {
      @Override
      public void beforeNearPut(Object key) {
        if (!held.compareAndSet(false, true)) {
          return;
        }
        // The read of "old" passed its checks and is about to store the value. Now another client
        // writes, and the invalidation is processed completely before the store.
        set("k", "new");
        await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.invalidations") > before);
      }

      @Override
      public void afterNearPut(Object key) {
        // "old" was just stored, after its invalidation was processed: it must not be served.
        if ("old".equals(cache.nearValueForTest("k"))) {
          staleAfterInvalidation.set(true);
        }
      }
    });
    assertThat(cache.get("k")).isEqualTo("old"); // ordered before the write: fine
    assertThat(held).as("the hook ran").isTrue();
    assertThat(staleAfterInvalidation).as("the old value was served after its invalidation was processed").isFalse();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void invalidationChannelKilled_flushesTheNearCacheAndRecovers() {
    RedisCache<String, String> cache = trackingCache();
    set("k", "v1");
    assertThat(cache.get("k")).isEqualTo("v1");
    readUntilNearCached(cache, "k");

    // Kill every normal connection but our own: the invalidation channel and Redisson's pool.
    REDIS.server().command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    set("k", "v2"); // its invalidation may be lost while the channel is down
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.flushes") >= 1);
    // Redisson's pooled connections were killed too: a call may fail until they are back.
    await().atMost(DEADLINE).ignoreException(BackendUnavailableException.class).until(() -> {
      String value = cache.get("k");
      assertThat(value).isNotEqualTo("v1");
      return "v2".equals(value);
    });

    await().atMost(DEADLINE).until(cache::isCoherent);
    assertThat(cache.get("k")).isEqualTo("v2");
    set("k", "v3");
    await().atMost(DEADLINE).until(() -> "v3".equals(cache.get("k")));
  }

  @Test
  void redisRestart_neverServesTheValueFromBeforeIt() {
    RedisCache<String, String> cache = trackingCache();
    set("k", "before");
    assertThat(cache.get("k")).isEqualTo("before");
    readUntilNearCached(cache, "k");

    REDIS.server().stop();
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.flushes") >= 1);
    assertTimeoutPreemptively(DEADLINE, () ->
        assertThatThrownBy(() -> cache.get("k")).isInstanceOf(BackendUnavailableException.class)
            .hasMessageContaining(REDIS.server().uri()));
    REDIS.server().start(); // same port, empty: no persistence
    set("k", "after");
    await().atMost(DEADLINE).ignoreException(BackendUnavailableException.class).until(() -> {
      String value = cache.get("k");
      assertThat(value).isNotEqualTo("before");
      return "after".equals(value);
    });
    await().atMost(DEADLINE).until(cache::isCoherent);
    set("k", "later");
    await().atMost(DEADLINE).until(() -> "later".equals(cache.get("k")));
  }

  /**
   * putAll's pipelined batches replace this process's near copies before it returns, with no
   * invalidation from Redis to help (expiry-only coherence serves near copies until their age).
   */
  @Test
  void putAll_replacesThisProcesssNearCopiesBeforeItReturns() {
    RedisCache<String, String> cache = cache(o -> o.coherence(Coherence.EXPIRY), c -> {});
    Map<String, String> updates = new java.util.HashMap<>();
    for (int i = 0; i < PipelinedPuts.BATCH + 10; i++) { // two batches
      set("k" + i, "old");
      updates.put("k" + i, "new");
    }
    readUntilNearCached(cache, "k0");
    readUntilNearCached(cache, "k" + PipelinedPuts.BATCH);
    cache.putAll(updates);
    assertThat(cache.get("k0")).isEqualTo("new");
    assertThat(cache.get("k" + PipelinedPuts.BATCH)).isEqualTo("new");
    assertThat(cache.stats().putCount()).isEqualTo(updates.size());
  }

  // ------------------------------------------------------------ failure

  @Test
  void redisDown_everyCallFailsWithinItsTimeoutNamingTheServer() {
    RedisCache<String, String> cache = cache(o -> o.commandTimeout(Duration.ofMillis(300)), c -> {});
    AsyncCache<String, String> async = cache.async();
    REDIS.server().stop();
    Map<String, Executable> calls = new java.util.LinkedHashMap<>();
    calls.put("get", () -> cache.get("k"));
    calls.put("get(loader)", () -> cache.get("k", key -> "loaded"));
    calls.put("getAll", () -> cache.getAll(List.of("a", "b", "c")));
    calls.put("put", () -> cache.put("k", "v"));
    calls.put("put(ttl)", () -> cache.put("k", "v", Duration.ofSeconds(5)));
    calls.put("putAll", () -> cache.putAll(Map.of("a", "1", "b", "2")));
    calls.put("putIfAbsent", () -> cache.putIfAbsent("k", "v"));
    calls.put("replace(k, v)", () -> cache.replace("k", "v"));
    calls.put("replace(k, a, b)", () -> cache.replace("k", "a", "b"));
    calls.put("remove(k)", () -> cache.remove("k"));
    calls.put("remove(k, v)", () -> cache.remove("k", "v"));
    calls.put("expire", () -> cache.expire("k", Duration.ofSeconds(1)));
    calls.put("clear", cache::clear);
    calls.put("async get", () -> async.get("k").toCompletableFuture().join());
    calls.put("async getAll", () -> async.getAll(List.of("a", "b")).toCompletableFuture().join());
    calls.put("async put", () -> async.put("k", "v").toCompletableFuture().join());
    calls.put("async put(ttl)", () -> async.put("k", "v", Duration.ofSeconds(5)).toCompletableFuture().join());
    calls.put("async putIfAbsent", () -> async.putIfAbsent("k", "v").toCompletableFuture().join());
    calls.put("async replace", () -> async.replace("k", "a", "b").toCompletableFuture().join());
    calls.put("async remove", () -> async.remove("k").toCompletableFuture().join());
    calls.put("async expire", () -> async.expire("k", Duration.ofSeconds(1)).toCompletableFuture().join());
    calls.forEach((name, call) -> assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(call::execute);
      Throwable failure = thrown instanceof java.util.concurrent.CompletionException && thrown.getCause() != null ? thrown.getCause() : thrown;
      assertThat(failure).as(name).isInstanceOf(BackendUnavailableException.class).hasMessageContaining(REDIS.server().uri());
    }, name));
  }

  @Test
  void serveStaleOnError_answersFromTheNearCopyOnlyWhenRedisFails() {
    RedisCache<String, String> cache = cache(o -> o.serveStaleOnError(true).commandTimeout(Duration.ofMillis(300)), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    set("k", "v1");
    assertThat(cache.get("k")).isEqualTo("v1");
    readUntilNearCached(cache, "k");
    REDIS.server().stop();
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.flushes") >= 1);
    assertTimeoutPreemptively(DEADLINE, () -> {
      assertThat(cache.get("k")).as("unverified near copy served because Redis failed").isEqualTo("v1");
      assertThatThrownBy(() -> cache.get("never-read")).isInstanceOf(BackendUnavailableException.class);
    });
    assertThat(metric(cache, "cache.near.stale.served")).isGreaterThanOrEqualTo(1);
    REDIS.server().start();
    set("k", "v2");
    await().atMost(DEADLINE).ignoreException(BackendUnavailableException.class).until(() -> "v2".equals(cache.get("k")));
  }

  @Test
  void serveStaleOnError_redisAnswering_returnsTheNewValueNotTheNearCopy() {
    RedisCache<String, String> cache = cache(o -> o.serveStaleOnError(true), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    setAndAwaitInvalidation(cache, "k", "v1");
    readUntilNearCached(cache, "k");
    holdChannelDown(cache); // the near copy stays (for serving stale) but is unverified
    set("k", "v2"); // its invalidation is lost
    assertThat(cache.get("k")).isEqualTo("v2");
    assertThat(metric(cache, "cache.near.stale.served")).isZero();
    releaseChannel(cache);
  }

  @Test
  void serveStaleOnError_serverError_failsNamingTheReplyWithoutServingTheNearCopy() {
    RedisCache<String, String> cache = cache(o -> o.serveStaleOnError(true), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    setAndAwaitInvalidation(cache, "k", "v1");
    readUntilNearCached(cache, "k");
    holdChannelDown(cache);
    REDIS.server().command("DEL", prefix + "k");
    REDIS.server().command("LPUSH", prefix + "k", "x"); // Redis is up, but GET fails: WRONGTYPE
    assertThatThrownBy(() -> cache.get("k"))
        .isInstanceOf(CacheException.class)
        .isNotInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("key 'k'")
        .hasMessageContaining("WRONGTYPE");
    assertThat(metric(cache, "cache.near.stale.served")).isZero();
    releaseChannel(cache);
  }

  @Test
  void serveStaleOnError_nearCopyRemovedByThisProcessesWriteWhileTheReadFailed_isNotServed() throws Exception {
    RedisCache<String, String> cache = cache(o -> o.serveStaleOnError(true).commandTimeout(Duration.ofSeconds(3)), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    setAndAwaitInvalidation(cache, "k", "v1");
    readUntilNearCached(cache, "k");
    REDIS.server().stop();
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.flushes") >= 1);
    CountDownLatch failed = new CountDownLatch(1);
    CompletableFuture<Void> release = new CompletableFuture<>();
    cache.testHooks(new NearCache.Hooks() {
      @Override
      public CompletionStage<?> beforeCaching(Object key) {
        failed.countDown();
        return release;
      }
    });
    // The read starts while the near copy is there, and fails...
    CompletableFuture<String> read = cache.async().get("k").toCompletableFuture();
    assertThat(failed.await(15, TimeUnit.SECONDS)).isTrue();
    cache.testHooks(NearCache.Hooks.NONE);
    // ...and before it answers, this process writes the key: the write fails too, but the key may
    // have changed, so the near copy is gone and must not be served.
    assertTimeoutPreemptively(DEADLINE, () ->
        assertThatThrownBy(() -> cache.put("k", "v2")).isInstanceOf(BackendUnavailableException.class));
    release.complete(null);
    assertThatThrownBy(() -> read.get(15, TimeUnit.SECONDS)).hasCauseInstanceOf(BackendUnavailableException.class);
    assertThat(metric(cache, "cache.near.stale.served")).isZero();
  }

  @Test
  void serveStaleOnError_nearCopyPastItsRedisTtl_isNotServed() {
    RedisCache<String, String> cache = cache(o -> o.serveStaleOnError(true).commandTimeout(Duration.ofMillis(300)), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    double before = metric(cache, "cache.near.invalidations");
    REDIS.server().command("SET", prefix + "k", "v1", "PX", "600000");
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.invalidations") > before);
    readUntilNearCached(cache, "k");
    REDIS.server().stop();
    await().atMost(DEADLINE).until(() -> metric(cache, "cache.near.flushes") >= 1);
    ticker.advance(Duration.ofMinutes(10)); // the key's TTL in Redis has passed
    assertTimeoutPreemptively(DEADLINE, () ->
        assertThatThrownBy(() -> cache.get("k")).isInstanceOf(BackendUnavailableException.class));
    assertThat(metric(cache, "cache.near.stale.served")).isZero();
  }

  @Test
  void serveStaleOnError_redisNotAnsweringInTime_servesTheNearCopy() {
    RedisCache<String, String> cache = cache(o -> o.serveStaleOnError(true).commandTimeout(Duration.ofMillis(300)), c -> {});
    await().atMost(DEADLINE).until(cache::isCoherent);
    setAndAwaitInvalidation(cache, "k", "v1");
    readUntilNearCached(cache, "k");
    holdChannelDown(cache);
    try (RespConnection admin = REDIS.server().connect()) {
      admin.command("CLIENT", "PAUSE", "1500", "ALL"); // Redis stops answering for a while
      assertTimeoutPreemptively(DEADLINE, () -> assertThat(cache.get("k")).isEqualTo("v1"));
    }
    assertThat(metric(cache, "cache.near.stale.served")).isEqualTo(1);
    releaseChannel(cache);
  }

  @Test
  void trackingRefused_fallsBackToExpiryOnlyAndSaysSoOnce() {
    REDIS.server().command("ACL", "SETUSER", "notrack", "on", ">secret", "allkeys", "allchannels", "+@all", "-client");
    Logger logger = (Logger) LoggerFactory.getLogger(NearCache.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      RedisCache<String, String> cache =
          cache(o -> o.username("notrack").password("secret").nearCacheMaxAge(Duration.ofMinutes(1)), c -> {});
      await().atMost(DEADLINE).until(() -> cache.isFallback() && cache.isCoherent());
      assertThat(metric(cache, "cache.near.expiry.only")).isEqualTo(1);
      assertThat(metric(cache, "cache.near.tracking")).isZero();
      assertThat(appender.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage()).contains("falls back to expiry-only coherence"));

      set("k", "v1");
      assertThat(cache.get("k")).isEqualTo("v1");
      set("k", "v2");
      assertThat(cache.get("k")).as("expiry-only: the near copy stands").isEqualTo("v1");
      ticker.advance(Duration.ofMinutes(1));
      assertThat(cache.get("k")).isEqualTo("v2");
    } finally {
      logger.detachAppender(appender);
    }
  }

  // ------------------------------------------------------------ expiry

  @Test
  void expiryCoherence_servesTheNearCopyUntilItsMaxAge() {
    RedisCache<String, String> cache = cache(o -> o.coherence(Coherence.EXPIRY).nearCacheMaxAge(Duration.ofSeconds(30)), c -> {});
    set("k", "v1");
    assertThat(cache.get("k")).isEqualTo("v1");
    set("k", "v2");
    ticker.advance(Duration.ofSeconds(29));
    assertThat(cache.get("k")).isEqualTo("v1");
    ticker.advance(Duration.ofSeconds(1));
    assertThat(cache.get("k")).isEqualTo("v2");
    assertThat(metric(cache, "cache.near.expiry.only")).isEqualTo(1);
  }

  /**
   * With the system ticker the near stores measure maximum ages on the client's sampled clock
   * (CoarseTicker): one thread per client, whatever the number of caches, that keeps time moving
   * and ends when the manager closes.
   */
  @Test
  void systemTicker_maxAgeRunsOnOneSampledClockPerClient_endedByClose() {
    RedisOptions redis = RedisOptions.builder().address(REDIS.server().uri()).keyPrefix(prefix)
        .coherence(Coherence.EXPIRY).nearCacheMaxAge(Duration.ofMillis(300)).build();
    String clockName = "cachet-redis-clock-" + RedisAddress.parse(REDIS.server().uri());
    try (CacheManager own = CacheManager.create()) {
      @SuppressWarnings("unchecked")
      RedisCache<String, String> a = own.create(CacheConfig.builder("clock-a").backend("redis")
          .backendOptions(redis).build()).unwrap(RedisCache.class);
      own.create(CacheConfig.builder("clock-b").backend("redis").backendOptions(redis).build());
      assertThat(threadsNamed(clockName)).hasSize(1);
      set("k", "v1");
      assertThat(a.get("k")).isEqualTo("v1");
      set("k", "v2"); // unnoticed (EXPIRY) until the copy is 300 ms old on the sampled clock
      await().atMost(DEADLINE).until(() -> "v2".equals(a.get("k")));
    }
    await().atMost(DEADLINE).until(() -> threadsNamed(clockName).isEmpty());
  }

  private static List<Thread> threadsNamed(String name) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).toList();
  }

  @Test
  void nearCopy_neverOutlivesTheKeysTtlInRedis() {
    RedisCache<String, String> cache = cache(o -> o.coherence(Coherence.EXPIRY).nearCacheMaxAge(Duration.ofMinutes(10)), c -> {});
    REDIS.server().command("SET", prefix + "k", "v1", "PX", "60000");
    assertThat(cache.get("k")).isEqualTo("v1");
    double trips = metric(cache, "cache.redis.roundtrips");
    assertThat(cache.get("k")).isEqualTo("v1");
    assertThat(metric(cache, "cache.redis.roundtrips")).as("served from the near cache").isEqualTo(trips);
    ticker.advance(Duration.ofSeconds(60));
    assertThat(cache.get("k")).isEqualTo("v1"); // Redis's clock has not moved: still there
    assertThat(metric(cache, "cache.redis.roundtrips")).as("past the TTL the near copy is not used").isEqualTo(trips + 1);
  }

  @Test
  void nearCopy_ttlCountsFromWhenTheReadWasSent() throws Exception {
    RedisCache<String, String> cache = cache(o -> o.coherence(Coherence.EXPIRY).nearCacheMaxAge(Duration.ofMinutes(10)), c -> {});
    REDIS.server().command("SET", prefix + "k", "v1", "PX", "60000");
    CountDownLatch replied = new CountDownLatch(1);
    CompletableFuture<Void> release = new CompletableFuture<>();
    cache.testHooks(new NearCache.Hooks() {
      @Override
      public CompletionStage<?> beforeCaching(Object key) {
        replied.countDown();
        return release;
      }
    });
    CompletableFuture<String> read = cache.async().get("k").toCompletableFuture();
    assertThat(replied.await(15, TimeUnit.SECONDS)).isTrue();
    ticker.advance(Duration.ofSeconds(30)); // the reply is handled 30 s after the request
    cache.testHooks(NearCache.Hooks.NONE);
    release.complete(null);
    assertThat(read.get(15, TimeUnit.SECONDS)).isEqualTo("v1");

    double trips = metric(cache, "cache.redis.roundtrips");
    assertThat(cache.get("k")).isEqualTo("v1");
    assertThat(metric(cache, "cache.redis.roundtrips")).as("30 s of the TTL left: a near hit").isEqualTo(trips);
    ticker.advance(Duration.ofSeconds(30)); // 60 s after the request: Redis may have expired it
    assertThat(cache.get("k")).isEqualTo("v1"); // Redis's clock has not moved: still there
    assertThat(metric(cache, "cache.redis.roundtrips")).as("the near copy died with the key's TTL").isEqualTo(trips + 1);
  }

  @Test
  void invalidationsMetric_countsOnlyKeysOfThisCache() {
    RedisCache<String, String> cache = trackingCache();
    double before = metric(cache, "cache.near.invalidations");
    set("good", "v1");
    // A key under the prefix that the UTF-8 key codec cannot decode: not a key of this cache.
    REDIS.server().command("EVAL", "redis.call('SET', KEYS[1] .. string.char(255, 254), 'x')", "1", prefix);
    readUntilNearCached(cache, "good");
    set("good", "v2");
    // Invalidations arrive in order: once v2 shows, every one above was processed.
    await().atMost(DEADLINE).until(() -> "v2".equals(cache.get("good")));
    assertThat(metric(cache, "cache.near.invalidations")).as("v1 and v2, not the foreign key").isEqualTo(before + 2);
  }

  // ------------------------------------------------------------ bad input

  @Test
  void bytesTheCodecCannotDecode_clearErrorNamingTheKeyNothingCached() {
    RedisCache<String, String> cache = trackingCache();
    REDIS.server().command("EVAL", "redis.call('SET', KEYS[1], string.char(255, 254, 253))", "1", prefix + "bad");
    set("good", "fine");
    assertThatThrownBy(() -> cache.get("bad"))
        .isInstanceOf(CodecException.class)
        .hasMessageContaining("key 'bad'")
        .hasMessageContaining("cannot decode");
    assertThat(cache.get("good")).isEqualTo("fine");
    double trips = metric(cache, "cache.redis.roundtrips");
    assertThatThrownBy(() -> cache.get("bad")).isInstanceOf(CodecException.class);
    assertThat(metric(cache, "cache.redis.roundtrips")).as("nothing was cached for the bad key").isEqualTo(trips + 1);
    assertThat(cache.getAll(java.util.List.of("good"))).containsEntry("good", "fine");
  }

  @Test
  void unparseableAddress_rejectedNamingIt() {
    assertThatThrownBy(() -> RedisOptions.builder().address("redis://no-port"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'redis://no-port'");
    assertThatThrownBy(() -> RedisOptions.builder().address("http://h:1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'http://h:1'");
    assertThatThrownBy(() -> RedisOptions.builder().address("h:99999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'h:99999'");
  }

  @Test
  void unreachableAddress_failsAtStartNamingItWithinTheConnectTimeout() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String address = "redis://127.0.0.1:" + port;
    assertTimeoutPreemptively(DEADLINE, () ->
        assertThatThrownBy(() -> manager.create(CacheConfig.builder("unreachable").backend("redis")
                .backendOptions(RedisOptions.builder().address(address).connectTimeout(Duration.ofMillis(500)).build())
                .build()))
            .isInstanceOf(BackendUnavailableException.class)
            .hasMessageContaining(address));
    assertThat(manager.cacheNames()).doesNotContain("unreachable");
  }

  // ------------------------------------------------------------ metrics

  @Test
  void metrics_exposeNearCacheAndRedisMeasurements() {
    RedisCache<String, String> cache = trackingCache();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CacheMetrics.monitor(registry, cache);
    set("k", "v");
    readUntilNearCached(cache, "k");
    double nearHits = registry.get("cache.near.hits").functionCounter().count();
    double nearMisses = registry.get("cache.near.misses").functionCounter().count();
    double trips = registry.get("cache.redis.roundtrips").functionCounter().count();
    double hits = registry.get("cache.gets").tag("result", "hit").functionCounter().count();
    cache.get("k");
    cache.get("absent");
    assertThat(registry.get("cache.near.hits").functionCounter().count()).isEqualTo(nearHits + 1);
    assertThat(registry.get("cache.near.misses").functionCounter().count()).isEqualTo(nearMisses + 1);
    assertThat(registry.get("cache.redis.roundtrips").functionCounter().count()).isEqualTo(trips + 1);
    assertThat(registry.get("cache.gets").tag("result", "hit").functionCounter().count()).isEqualTo(hits + 1);
    assertThat(registry.get("cache.gets").tag("result", "miss").functionCounter().count()).isEqualTo(1);
    assertThat(registry.get("cache.near.tracking").gauge().value()).isEqualTo(1);
    for (BackendMetric metric : cache.backendMetrics()) {
      assertThat(registry.find(metric.name()).meters()).as(metric.name()).isNotEmpty();
    }

    // A known absence is a near hit and a cache miss, each counted once, without a round trip.
    cache.get("absent");
    assertThat(registry.get("cache.near.hits").functionCounter().count()).isEqualTo(nearHits + 2);
    assertThat(registry.get("cache.near.absent.hits").functionCounter().count()).isEqualTo(1);
    assertThat(registry.get("cache.gets").tag("result", "miss").functionCounter().count()).isEqualTo(2);
    assertThat(registry.get("cache.redis.roundtrips").functionCounter().count()).isEqualTo(trips + 1);
    assertThat(cache.stats().hitCount()).isEqualTo((long) hits + 1);

    // Test peeks are not reads; the counts survive close.
    assertThat(cache.nearValueForTest("k")).isEqualTo("v");
    assertThat(cache.nearAbsentForTest("absent")).isTrue();
    cache.close();
    assertThat(registry.get("cache.near.hits").functionCounter().count()).isEqualTo(nearHits + 2);
    assertThat(registry.get("cache.near.absent.hits").functionCounter().count()).isEqualTo(1);
  }

}
