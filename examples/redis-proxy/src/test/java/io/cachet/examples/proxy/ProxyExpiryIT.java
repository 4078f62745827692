package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.testkit.redis.RedisServerExtension;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The proxy's cache semantics with COHERENCE=expiry (pure TTL, no invalidation): read-through,
 * global expiry, and exact LRU eviction with a capacity of 10 keys.
 */
@Tag("redis")
final class ProxyExpiryIT {

  private static final long EXPIRY_SECONDS = 3;

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private static ProxyProcess proxy;

  @BeforeAll
  static void startProxy() {
    proxy = ProxyProcess.start(Map.of(
        "REDIS_ADDRESS", REDIS.server().address(),
        "COHERENCE", "expiry",
        "CACHE_CAPACITY", "10",
        "GLOBAL_CACHE_EXPIRY", Long.toString(EXPIRY_SECONDS)));
  }

  @AfterAll
  static void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void capacity10_readKey1ToKey11_key1WasEvicted_key11IsStillCached() {
    for (int i = 1; i <= 11; i++) {
      REDIS.server().command("SET", "lru:key" + i, "v1-" + i);
    }
    long firstRead = System.nanoTime();
    for (int i = 1; i <= 11; i++) {
      assertThat(proxy.body("/proxy?key=lru:key" + i)).isEqualTo("v1-" + i);
    }
    REDIS.server().command("SET", "lru:key1", "v2-1");
    REDIS.server().command("SET", "lru:key11", "v2-11");
    assertThat(proxy.body("/proxy?key=lru:key1")).as("key1 was evicted, so it is read again").isEqualTo("v2-1");
    String key11 = proxy.body("/proxy?key=lru:key11");
    // Guard against a stalled machine: past the global expiry key11 would rightly be re-read too.
    if (secondsSince(firstRead) < EXPIRY_SECONDS) {
      assertThat(key11).as("key11 is still cached").isEqualTo("v1-11");
    }
    try (RespClient client = proxy.resp()) {
      // key1 was read again, so the least recently read key, key2, made room for it.
      REDIS.server().command("SET", "lru:key2", "v2-2");
      String key2 = client.string("GET", "lru:key2");
      if (secondsSince(firstRead) < EXPIRY_SECONDS) {
        assertThat(key2).isEqualTo("v2-2");
      }
    }
  }

  @Test
  void globalExpiry_afterItTheNewRedisValueIsServed() {
    REDIS.server().command("SET", "ttl:key", "old");
    long cached = System.nanoTime();
    assertThat(proxy.body("/proxy?key=ttl:key")).isEqualTo("old");
    REDIS.server().command("SET", "ttl:key", "new");
    String before = proxy.body("/proxy?key=ttl:key");
    if (secondsSince(cached) < EXPIRY_SECONDS) {
      assertThat(before).as("with expiry coherence the cached value is served until it expires").isEqualTo("old");
    }
    await().atMost(Duration.ofSeconds(EXPIRY_SECONDS + 10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> proxy.body("/proxy?key=ttl:key"), "new"::equals);
    assertThat(secondsSince(cached)).as("not before the global expiry").isGreaterThanOrEqualTo(EXPIRY_SECONDS - 0.05);
  }

  @Test
  void readThrough_keyCreatedInRedisAfterAMiss_isServed() {
    HttpResponse<byte[]> miss = proxy.get("/proxy?key=later:key");
    assertThat(miss.statusCode()).isEqualTo(404);
    REDIS.server().command("SET", "later:key", "now");
    assertThat(new String(proxy.get("/proxy?key=later:key").body(), UTF_8)).as("misses are not cached").isEqualTo("now");
  }

  private static double secondsSince(long nanos) {
    return (System.nanoTime() - nanos) / 1e9;
  }
}
