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
 * Redis stopped under a running proxy with COHERENCE=expiry: cached values are still served,
 * a miss gets 503 (HTTP) / {@code -ERR} (RESP) within the timeout, and after Redis is back the
 * proxy serves again without a restart.
 */
@Tag("redis")
final class ProxyRedisOutageIT {

  /**
   * REDIS_TIMEOUT; the cache bounds a failing read at this + 250 ms (a read is one command, not
   * retried once it may have reached Redis).
   */
  private static final double REDIS_TIMEOUT_SECONDS = 1;
  private static final double READ_BOUND_SECONDS = REDIS_TIMEOUT_SECONDS + 0.25;

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private static ProxyProcess proxy;

  @BeforeAll
  static void startProxy() {
    proxy = ProxyProcess.start(Map.of(
        "REDIS_ADDRESS", REDIS.server().address(),
        "COHERENCE", "expiry",
        "GLOBAL_CACHE_EXPIRY", "600",
        "REDIS_TIMEOUT", Double.toString(REDIS_TIMEOUT_SECONDS)));
  }

  @AfterAll
  static void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void redisStopped_cachedValueIsServed_missGets503WithinTheTimeout_andServiceResumes() {
    REDIS.server().command("SET", "outage:cached", "still here");
    assertThat(proxy.body("/proxy?key=outage:cached")).isEqualTo("still here");
    try (RespClient client = proxy.resp()) {
      assertThat(client.string("GET", "outage:cached")).isEqualTo("still here");
    }

    REDIS.server().stop();
    try {
      assertThat(proxy.body("/proxy?key=outage:cached")).as("served from the cache").isEqualTo("still here");

      long start = System.nanoTime();
      HttpResponse<byte[]> miss = proxy.get("/proxy?key=outage:uncached");
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(miss.statusCode()).isEqualTo(503);
      assertThat(new String(miss.body(), UTF_8)).startsWith("{\"error\":\"ServiceUnavailable\",\"message\":\"Redis is unavailable");
      // The bound plus a margin for a loaded machine (process scheduling, not the proxy).
      assertThat(seconds).as("503 within the timeout").isLessThan(READ_BOUND_SECONDS + 1.5);

      try (RespClient client = proxy.resp()) {
        start = System.nanoTime();
        String reply = RespClient.asString(client.command("GET", "outage:uncached"));
        seconds = (System.nanoTime() - start) / 1e9;
        assertThat(reply).startsWith("-ERR Redis is unavailable");
        assertThat(seconds).isLessThan(READ_BOUND_SECONDS + 1.5);
        assertThat(client.command("PING")).as("the connection stays usable").isEqualTo("+PONG");
      }
      assertThat(proxy.get("/health").statusCode()).isEqualTo(200);
    } finally {
      REDIS.server().start();
    }
    REDIS.server().command("SET", "outage:uncached", "back");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> proxy.get("/proxy?key=outage:uncached").statusCode() == 200);
    assertThat(proxy.body("/proxy?key=outage:uncached")).isEqualTo("back");
    assertThat(proxy.metric("proxy_requests_total{protocol=\"http\",status=\"503\"}")).isGreaterThanOrEqualTo(1);
  }
}
