package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.fault.TcpRelay;
import io.cachet.testkit.redis.RedisServerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Reads that Redis never answers fail on the client's completion pool, never on Redisson's one
 * timer thread, which every other Redisson timeout of the client shares: a caller's continuation
 * run there would hold up all of them (see CommandTimeouts).
 */
@Tag("redis")
final class RedisReadTimeoutIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void readsRedisNeverAnswers_failOnTheCompletionPool() throws Exception {
    try (TcpRelay relay = TcpRelay.start(REDIS.server().host(), REDIS.server().port());
        CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("read-timeouts").backend("redis")
          .backendOptions(RedisOptions.builder().address("redis://" + relay.address())
              .commandTimeout(Duration.ofMillis(500)).build())
          .build());
      cache.put("warm", "up"); // connections open
      relay.blackHole();
      List<CompletableFuture<String>> failedOn = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        failedOn.add(cache.async().get("k" + i).toCompletableFuture()
            .handle((value, error) -> (error != null ? "" : "answered on ") + Thread.currentThread().getName()));
      }
      for (CompletableFuture<String> thread : failedOn) {
        assertThat(thread.get(10, TimeUnit.SECONDS)).startsWith("cachet-redis-completions-");
      }
      relay.pass();
    }
  }
}
