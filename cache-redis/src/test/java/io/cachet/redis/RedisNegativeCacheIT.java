package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.FakeTicker;
import io.cachet.testkit.redis.RedisServerExtension;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Absent keys are cached as absent, coherently, with their own maximum age. */
@Tag("redis")
final class RedisNegativeCacheIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration DEADLINE = Duration.ofSeconds(20);

  private final CacheManager manager = CacheManager.create();
  private final String prefix = "neg-" + UUID.randomUUID() + ":";
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    manager.close();
  }

  private RedisCache<String, String> cache(Consumer<RedisOptions.Builder> options) {
    RedisOptions.Builder redis = RedisOptions.builder().address(REDIS.server().uri()).keyPrefix(prefix);
    options.accept(redis);
    RedisCache<String, String> cache = manager.create(CacheConfig.builder("c-" + UUID.randomUUID()).backend("redis")
            .ticker(ticker).backendOptions(redis.build()).build())
        .unwrap(RedisCache.class);
    await().atMost(DEADLINE).until(cache::isCoherent);
    return cache;
  }

  /** {@code GET}s Redis ran so far, from its own {@code INFO commandstats}: calls minus failed ones. */
  private static long readCalls() {
    String stats = (String) REDIS.server().command("INFO", "commandstats");
    long calls = 0;
    for (String line : stats.split("\r?\n")) {
      if (line.startsWith("cmdstat_get:")) {
        calls += field(line, "calls") - field(line, "failed_calls") - field(line, "rejected_calls");
      }
    }
    return calls;
  }

  private static long field(String line, String name) {
    int at = line.indexOf("," + name + "=");
    if (at < 0) {
      at = line.indexOf(":" + name + "=");
    }
    if (at < 0) {
      return 0;
    }
    String rest = line.substring(at + name.length() + 2);
    int end = rest.indexOf(',');
    return Long.parseLong(end < 0 ? rest.strip() : rest.substring(0, end));
  }

  @Test
  void get_absentKeyRepeatedly_costsOneRedisRead() {
    RedisCache<String, String> cache = cache(o -> {});
    long before = readCalls();

    for (int i = 0; i < 50; i++) {
      assertThat(cache.get("missing")).isNull();
    }

    assertThat(readCalls() - before).isEqualTo(1);
    assertThat(cache.nearAbsentForTest("missing")).isTrue();
    assertThat(cache.stats().missCount()).isEqualTo(50);
  }

  @Test
  void get_absentKeyCreatedByAnotherClient_isSeenOnceItsInvalidationArrives() {
    RedisCache<String, String> cache = cache(o -> {});
    assertThat(cache.get("k")).isNull();
    assertThat(cache.nearAbsentForTest("k")).isTrue();

    REDIS.server().command("SET", prefix + "k", "created");

    await().atMost(DEADLINE).until(() -> !cache.nearAbsentForTest("k"));
    assertThat(cache.get("k")).isEqualTo("created");
  }

  @Test
  void put_byThisCache_replacesTheAbsentRecordAtOnce() {
    RedisCache<String, String> cache = cache(o -> {});
    assertThat(cache.get("k")).isNull();

    cache.put("k", "v");

    assertThat(cache.nearAbsentForTest("k")).isFalse();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void absentRecord_expiresAfterNegativeCacheMaxAge_evenWithoutInvalidation() {
    RedisCache<String, String> cache = cache(o -> o.coherence(Coherence.EXPIRY).negativeCacheMaxAge(Duration.ofSeconds(5)));
    assertThat(cache.get("k")).isNull();
    REDIS.server().command("SET", prefix + "k", "created"); // expiry-only: no invalidation

    ticker.advance(Duration.ofSeconds(4));
    assertThat(cache.get("k")).as("still remembered as absent").isNull();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(cache.get("k")).isEqualTo("created");
  }

  /** An absence is a near entry: never remembered past nearCacheMaxAge, whatever negativeCacheMaxAge says. */
  @Test
  void absentRecord_expiresAfterNearCacheMaxAge_whenThatIsShorter() {
    RedisCache<String, String> cache = cache(o -> o.coherence(Coherence.EXPIRY)
        .nearCacheMaxAge(Duration.ofSeconds(5)).negativeCacheMaxAge(Duration.ofSeconds(60)));
    assertThat(cache.get("k")).isNull();
    REDIS.server().command("SET", prefix + "k", "created"); // expiry-only: no invalidation

    ticker.advance(Duration.ofSeconds(4));
    assertThat(cache.get("k")).as("still remembered as absent").isNull();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(cache.get("k")).isEqualTo("created");
  }

  @Test
  void negativeCacheMaxAgeZero_readsRedisEveryTime() {
    RedisCache<String, String> cache = cache(o -> o.negativeCacheMaxAge(Duration.ZERO));
    long before = readCalls();

    for (int i = 0; i < 5; i++) {
      assertThat(cache.get("missing")).isNull();
    }

    assertThat(readCalls() - before).isEqualTo(5);
    assertThat(cache.nearAbsentForTest("missing")).isFalse();
  }

  @Test
  void lostInvalidationConnection_forgetsAbsentRecords() {
    RedisCache<String, String> cache = cache(o -> {});
    assertThat(cache.get("k")).isNull();
    cache.hubForTest().dropConnectionsForTest(true);
    await().atMost(DEADLINE).until(() -> !cache.isCoherent());
    REDIS.server().command("SET", prefix + "k", "written while nobody listened");

    assertThat(cache.nearAbsentForTest("k")).isFalse();
    cache.hubForTest().dropConnectionsForTest(false);
    await().atMost(DEADLINE).until(cache::isCoherent);
    assertThat(cache.get("k")).isEqualTo("written while nobody listened");
  }
}
