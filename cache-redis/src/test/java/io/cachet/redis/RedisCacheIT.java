package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheLoadException;
import io.cachet.CacheManager;
import io.cachet.CacheStats;
import io.cachet.FakeTicker;
import io.cachet.codec.Codec;
import io.cachet.codec.CodecException;
import io.cachet.codec.Codecs;
import io.cachet.testkit.redis.RedisServer;
import io.cachet.testkit.redis.RedisServerExtension;
import io.cachet.testkit.redis.RespConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Semantics and liveness of the Redis cache's operations against a real Redis server. */
@Tag("redis")
final class RedisCacheIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration DEADLINE = Duration.ofSeconds(15);

  private final FakeTicker ticker = new FakeTicker();
  private final String prefix = "sem-" + UUID.randomUUID() + ":";
  private final CacheManager manager = CacheManager.create();
  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void tearDown() {
    pool.shutdownNow();
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

  private RedisCache<String, String> cache() {
    return cache(o -> {}, c -> {});
  }

  private static @org.jspecify.annotations.Nullable Object redisGet(String key) {
    return REDIS.server().command("GET", key);
  }

  /** Whether {@code thread} waits, untimed, inside {@code method}: for another thread's load. */
  /** Whether {@code thread} is parked in one of the shared skeleton's waits whose name starts with {@code method}. */
  private static boolean waitingIn(AtomicReference<Thread> thread, String method) {
    Thread t = thread.get();
    return t != null
        && t.getState() == Thread.State.WAITING
        && Arrays.stream(t.getStackTrace())
            .anyMatch(frame -> frame.getClassName().equals("io.cachet.spi.Loads")
                && frame.getMethodName().startsWith(method));
  }

  /**
   * A write answered {@code -READONLY} (a primary just demoted in a failover, or an address that
   * names a replica) is the outage it is, not a command Redis rejected for good; nothing is stored.
   */
  @Test
  void writeToAReplica_failsAsUnavailable() {
    try (RedisServer replica = RedisServer.create().start()) {
      replica.command("REPLICAOF", REDIS.server().host(), Integer.toString(REDIS.server().port()));
      Cache<String, String> cache = manager.create(CacheConfig.builder("on-a-replica").backend("redis")
          .keyType(String.class).valueType(String.class)
          .backendOptions(RedisOptions.builder().address(replica.uri()).keyPrefix(prefix).build()).build());
      assertThatThrownBy(() -> cache.put("k", "v"))
          .isInstanceOf(BackendUnavailableException.class)
          .hasMessageContaining("READONLY");
      assertThat(redisGet(prefix + "k")).isNull();
    }
  }

  // ------------------------------------------------------------ get(key, loader) liveness

  @Test
  void getWithLoader_loaderThrowsAnError_releasesTheWaitersWithALoadFailure() throws Exception {
    RedisCache<String, String> cache = cache();
    CountDownLatch entered = new CountDownLatch(1);
    CompletableFuture<Void> release = new CompletableFuture<>();
    Future<String> owner = pool.submit(() -> cache.get("k", key -> {
      entered.countDown();
      release.join();
      throw new AssertionError("the loader failed hard");
    }));
    assertThat(entered.await(15, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Thread> waiterThread = new AtomicReference<>();
    Future<String> waiter = pool.submit(() -> {
      waiterThread.set(Thread.currentThread());
      return cache.get("k", key -> "never called");
    });
    await().atMost(DEADLINE).until(() -> waitingIn(waiterThread, "await"));
    release.complete(null);

    assertThatThrownBy(() -> owner.get(15, TimeUnit.SECONDS)).hasCauseInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> waiter.get(15, TimeUnit.SECONDS))
        .hasCauseInstanceOf(CacheLoadException.class)
        .hasRootCauseInstanceOf(AssertionError.class);
    assertThat(cache.get("k", key -> "second")).isEqualTo("second");
  }

  @Test
  void getWithLoader_redisFailsForTheLoadingThread_waitersSeeTheOutageNotALoadFailure() throws Exception {
    RedisCache<String, String> cache = cache(o -> o.commandTimeout(Duration.ofMillis(500)), c -> {});
    CountDownLatch entered = new CountDownLatch(1);
    CompletableFuture<Void> release = new CompletableFuture<>();
    Future<String> owner = pool.submit(() -> cache.get("k", key -> {
      entered.countDown();
      release.join();
      return "loaded";
    }));
    assertThat(entered.await(15, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Thread> waiterThread = new AtomicReference<>();
    Future<String> waiter = pool.submit(() -> {
      waiterThread.set(Thread.currentThread());
      return cache.get("k", key -> "never called");
    });
    await().atMost(DEADLINE).until(() -> waitingIn(waiterThread, "await"));
    REDIS.server().stop(); // the owner's store of the loaded value fails
    release.complete(null);

    assertThatThrownBy(() -> owner.get(15, TimeUnit.SECONDS)).hasCauseInstanceOf(BackendUnavailableException.class);
    assertThatThrownBy(() -> waiter.get(15, TimeUnit.SECONDS)).hasCauseInstanceOf(BackendUnavailableException.class);
  }

  // ------------------------------------------------------------ close

  @Test
  void writeInFlightAtClose_stillCompletes() throws Exception {
    RedisCache<String, String> cache = cache(o -> o.commandTimeout(Duration.ofSeconds(10)), c -> {});
    AsyncCache<String, String> async = cache.async();
    CompletableFuture<Void> put;
    try (RespConnection admin = REDIS.server().connect()) {
      admin.command("CLIENT", "PAUSE", "1000", "WRITE"); // the SET waits in Redis while we close
      put = async.put("k", "v").toCompletableFuture();
      cache.close();
    }
    assertThat(put.get(15, TimeUnit.SECONDS)).isNull();
    assertThat(redisGet(prefix + "k")).isEqualTo("v");
  }

  @Test
  void close_racingCallers_tellTheManagerOnce() throws Exception {
    RedisOptions options = RedisOptions.builder().address(REDIS.server().uri()).coherence(Coherence.EXPIRY).build();
    try (RedisClient redisson = RedisClient.connect(options)) {
      for (int round = 0; round < 20; round++) {
        AtomicInteger closes = new AtomicInteger();
        RedisCache<String, String> cache = new RedisCache<>(
            CacheConfig.builder("race").build(), options, redisson, c -> closes.incrementAndGet());
        CyclicBarrier start = new CyclicBarrier(4);
        List<Future<?>> closers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          closers.add(pool.submit(() -> {
            start.await();
            cache.close();
            return null;
          }));
        }
        for (Future<?> closer : closers) {
          closer.get(15, TimeUnit.SECONDS);
        }
        assertThat(closes).hasValue(1);
      }
    }
  }

  // ------------------------------------------------------------ codecs

  /** UTF-8, except that it refuses to encode {@code "bad"}. */
  private static final class Picky implements Codec<String> {
    @Override
    public byte[] encode(String value) {
      if (value.equals("bad")) {
        throw new IllegalArgumentException("refuses to encode 'bad'");
      }
      return Codecs.utf8().encode(value);
    }

    @Override
    public String decode(byte[] bytes) {
      return Codecs.utf8().decode(bytes);
    }

    @Override
    public Class<String> type() {
      return String.class;
    }
  }

  @Test
  void valueCodecFails_nothingIsSentAndTheErrorNamesTheKey() {
    RedisCache<String, String> cache = cache(o -> {}, c -> c.valueCodec(new Picky()));
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("a", "good");
    entries.put("b", "bad");
    entries.put("c", "good");
    assertThatThrownBy(() -> cache.putAll(entries)).isInstanceOf(CodecException.class).hasMessageContaining("key 'b'");
    assertThat(redisGet(prefix + "a")).as("putAll encodes everything before sending anything").isNull();
    assertThat(redisGet(prefix + "c")).isNull();

    assertThatThrownBy(() -> cache.put("k", "bad")).isInstanceOf(CodecException.class).hasMessageContaining("key 'k'");
    assertThatThrownBy(() -> cache.replace("k", "good", "bad")).isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> cache.async().put("k", "bad").toCompletableFuture().join())
        .as("the async view fails the stage, as the blocking call throws")
        .hasCauseInstanceOf(CodecException.class);
    assertThat(redisGet(prefix + "k")).isNull();
  }

  @Test
  void keyCodecFails_theCallFailsNamingTheKeyAndOtherKeysAreUnaffected() {
    RedisCache<String, String> cache = cache(o -> {}, c -> c.keyCodec(new Picky()));
    REDIS.server().command("SET", prefix + "a", "1");
    REDIS.server().command("SET", prefix + "c", "3");
    assertThatThrownBy(() -> cache.get("bad")).isInstanceOf(CodecException.class).hasMessageContaining("key 'bad'");
    assertThatThrownBy(() -> cache.put("bad", "v")).isInstanceOf(CodecException.class).hasMessageContaining("key 'bad'");
    assertThatThrownBy(() -> cache.getAll(List.of("a", "bad", "c")))
        .isInstanceOf(CodecException.class)
        .hasMessageContaining("key 'bad'");
    assertThatThrownBy(() -> cache.async().get("bad").toCompletableFuture().join()).hasCauseInstanceOf(CodecException.class);
    assertThatThrownBy(() -> cache.async().getAll(List.of("a", "bad")).toCompletableFuture().join())
        .hasCauseInstanceOf(CodecException.class);
    assertThat(cache.getAll(List.of("a", "c"))).containsExactly(Map.entry("a", "1"), Map.entry("c", "3"));
  }

  @Test
  void getAll_undecodableValueAmongGoodOnes_countsEachKeysLoad() {
    RedisCache<String, String> cache = cache();
    REDIS.server().command("SET", prefix + "good1", "1");
    REDIS.server().command("SET", prefix + "good2", "2");
    REDIS.server().command("EVAL", "redis.call('SET', KEYS[1], string.char(255, 254, 253))", "1", prefix + "bad");
    CacheStats before = cache.stats();
    // The bad key last: one reply completes the keys in order, so once the call fails on it,
    // the others are accounted for.
    assertThatThrownBy(() -> cache.getAll(List.of("good1", "absent", "good2", "bad")))
        .isInstanceOf(CodecException.class)
        .hasMessageContaining("key 'bad'");
    CacheStats delta = cache.stats().minus(before);
    assertThat(delta.loadSuccessCount()).as("good1 and good2 were found").isEqualTo(2);
    assertThat(delta.loadFailureCount()).as("bad could not be decoded").isEqualTo(1);
    assertThat(cache.getAll(List.of("good1", "good2", "absent"))).containsOnlyKeys("good1", "good2");
  }

  /** A load whose value another client stored first returns theirs, counted as the one miss it was. */
  @Test
  void getWithLoader_whenAnotherClientStoredFirst_returnsTheirsAndCountsOneMissNoHit() {
    RedisCache<String, String> cache = cache();
    CacheStats before = cache.stats();
    String value = cache.get("raced", key -> {
      REDIS.server().command("SET", prefix + "raced", "theirs");
      return "mine";
    });
    assertThat(value).isEqualTo("theirs");
    CacheStats delta = cache.stats().minus(before);
    assertThat(delta.missCount()).isEqualTo(1);
    assertThat(delta.hitCount()).isZero();
    assertThat(delta.putCount()).isZero();
  }

  // ------------------------------------------------------------ batched reads

  @Test
  void get_concurrentMisses_sharePipelinedBatches_andEachGetsItsOwnValue() throws Exception {
    RedisCache<String, String> cache = cache();
    for (int i = 0; i < 80; i++) {
      REDIS.server().command("SET", prefix + "b" + i, "value-" + i);
    }
    REDIS.server().command("LPUSH", prefix + "b99", "a list");
    double trips = RedisCoherenceIT.metric(cache, "cache.redis.roundtrips");
    double batches = RedisCoherenceIT.metric(cache, "cache.redis.read.batches");
    double reads = RedisCoherenceIT.metric(cache, "cache.redis.reads");
    List<CompletableFuture<String>> gets = new ArrayList<>();
    try (RespConnection admin = REDIS.server().connect()) {
      // Redis holds the first reads briefly, so that the others surely queue behind them.
      admin.command("CLIENT", "PAUSE", "200", "ALL");
      for (int i = 0; i < 100; i++) {
        gets.add(cache.async().get("b" + i).toCompletableFuture());
      }
    }
    for (int i = 0; i < 80; i++) {
      assertThat(gets.get(i).get(15, TimeUnit.SECONDS)).isEqualTo("value-" + i);
    }
    for (int i = 80; i < 99; i++) {
      assertThat(gets.get(i).get(15, TimeUnit.SECONDS)).as("absent b" + i).isNull();
    }
    assertThatThrownBy(() -> gets.get(99).get(15, TimeUnit.SECONDS))
        .as("an error reply for one key fails that read only")
        .hasCauseInstanceOf(CacheException.class)
        .hasMessageContaining("key 'b99'")
        .hasMessageContaining("WRONGTYPE");
    double sent = RedisCoherenceIT.metric(cache, "cache.redis.roundtrips") - trips;
    assertThat(sent).as("round trips for 100 concurrent misses").isLessThan(20);
    assertThat(RedisCoherenceIT.metric(cache, "cache.redis.read.batches") - batches).isEqualTo(sent);
    assertThat(RedisCoherenceIT.metric(cache, "cache.redis.reads") - reads).isEqualTo(100);
    assertThat(cache.nearValueForTest("b7")).as("a batched read is cached like any").isEqualTo("value-7");
    assertThat(cache.nearAbsentForTest("b80")).isTrue();
  }

  // ------------------------------------------------------------ Redis errors and timeouts

  @Test
  void serverError_failsNamingKeyAndReplyAndIsNotAnOutage() {
    RedisCache<String, String> cache = cache();
    REDIS.server().command("LPUSH", prefix + "list", "x");
    assertThatThrownBy(() -> cache.get("list"))
        .isInstanceOf(CacheException.class)
        .isNotInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("key 'list'")
        .hasMessageContaining("WRONGTYPE")
        .hasMessageNotContaining("params");
    assertThatThrownBy(() -> cache.replace("list", "a", "b"))
        .isInstanceOf(CacheException.class)
        .isNotInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("WRONGTYPE");
  }

  @Test
  void conditionalWriteWhoseReplyIsLate_isNeverReportedAsNotApplied() {
    RedisCache<String, String> cache = cache(o -> o.commandTimeout(Duration.ofMillis(400)), c -> {});
    REDIS.server().command("SET", prefix + "k", "a");
    assertThat(cache.replace("k", "x", "y")).isFalse(); // loads the script: the paused call is the CAS itself
    Boolean replaced;
    try (RespConnection admin = REDIS.server().connect()) {
      // Redis holds the compare-and-set script past the command timeout (400 ms) and releases it
      // before the cache's bound (650 ms). A client that resent it after the timeout (Redisson
      // with one retry does, 100 ms later; it spares SET but not EVAL) would get the second
      // copy's answer: the value is already "b", "not replaced".
      admin.command("CLIENT", "PAUSE", "560", "WRITE");
      try {
        replaced = assertTimeoutPreemptively(DEADLINE, () -> cache.replace("k", "a", "b"));
      } catch (BackendUnavailableException e) {
        replaced = null; // not knowing is fine
      }
    }
    // Only this call changes the key, and it holds "a": "not replaced" can only come from a resend.
    assertThat(replaced).as("an applied replace must not report false").isNotEqualTo(Boolean.FALSE);
    if (Boolean.TRUE.equals(replaced)) {
      assertThat(redisGet(prefix + "k")).isEqualTo("b");
    }
  }

  /**
   * A pipeline whose SETs Redis refuses in part (an ACL that allows some keys only): the SETs that
   * were applied are counted as puts, and the call fails naming the refusal.
   */
  @Test
  void putAll_partlyRefused_countsThePutsThatWereApplied() {
    REDIS.server().command("ACL", "SETUSER", "half", "on", ">pw", "~" + prefix + "a*", "allchannels", "+@all");
    RedisCache<String, String> cache = cache(o -> o.username("half").password("pw"), c -> c.recordStats(true));
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("a1", "v");
    entries.put("a2", "v");
    entries.put("b1", "v");

    assertThatThrownBy(() -> cache.putAll(entries)).isInstanceOf(CacheException.class)
        .hasMessageContaining("NOPERM");

    assertThat(redisGet(prefix + "a1")).isEqualTo("v");
    assertThat(redisGet(prefix + "a2")).isEqualTo("v");
    assertThat(redisGet(prefix + "b1")).isNull();
    assertThat(cache.stats().putCount()).isEqualTo(2);
  }

  // ------------------------------------------------------------ shared clients

  @Test
  void caches_withDifferentConnectionOptions_doNotShareAClient() {
    REDIS.server().command("ACL", "SETUSER", "sharer", "on", ">right", "allkeys", "allchannels", "+@all");
    RedisCache<String, String> first = cache(o -> o.username("sharer").password("right"), c -> {});
    RedisCache<String, String> same = cache(o -> o.username("sharer").password("right"), c -> {});
    RedisCache<String, String> slower =
        cache(o -> o.username("sharer").password("right").commandTimeout(Duration.ofSeconds(7)), c -> {});
    assertThat(same.clientForTest()).isSameAs(first.clientForTest());
    assertThat(slower.clientForTest()).isNotSameAs(first.clientForTest());
    assertThatThrownBy(() -> cache(o -> o.username("sharer").password("wrong"), c -> {}))
        .as("a wrong password is used, not the first cache's client")
        .isInstanceOf(BackendUnavailableException.class);
    first.put("k", "v");
    assertThat(same.get("k")).isEqualTo("v");
  }
}
