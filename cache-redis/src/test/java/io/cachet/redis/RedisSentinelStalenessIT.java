package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.redis.RedisSentinel;
import io.cachet.testkit.redis.RedisSentinelExtension;
import io.cachet.testkit.redis.RedisServer;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The near cache is never silently stale across a Sentinel failover: the primary is SIGKILLed, a
 * replica promoted, the old primary restarted as a replica (see {@link StalenessHarness}).
 */
@Tag("redis")
final class RedisSentinelStalenessIT {

  private static final Logger log = LoggerFactory.getLogger(RedisSentinelStalenessIT.class);

  @RegisterExtension static final RedisSentinelExtension SENTINEL = new RedisSentinelExtension();

  @Test
  void primaryKilledAndReplicaPromoted_noStaleRead() throws Exception {
    RedisSentinel sentinel = SENTINEL.sentinel();
    String prefix = "stale-" + UUID.randomUUID() + ":";
    TopologyWrites writes = new TopologyWrites(key -> sentinel.primary());
    try (CacheManager manager = CacheManager.create();
        StalenessHarness harness = new StalenessHarness(prefix, writes, Duration.ofMillis(1))) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("staleness").backend("redis").maximumSize(1_000)
          .backendOptions(RedisOptions.builder().address(sentinel.uri()).keyPrefix(prefix)
              .commandTimeout(Duration.ofMillis(500)).build())
          .build());
      RedisCache<?, ?> redisCache = cache.unwrap(RedisCache.class);
      await().atMost(Duration.ofSeconds(30)).until(redisCache::isCoherent);
      harness.phase("before the failover");
      harness.start(cache);
      harness.runFor(Duration.ofMillis(1500));

      RedisServer old = sentinel.primary();
      old.kill();
      RedisServer promoted = sentinel.awaitFailover(old);
      log.info("{} killed, {} promoted", old.address(), promoted.address());
      await().atMost(Duration.ofSeconds(30)).until(() -> redisCache.hubForTest().trackedForTest().contains(promoted.address())
          && redisCache.isCoherent());
      writes.acceptUnreplicated(); // the promoted primary has no replica until the old one is back
      harness.phase("after the failover");
      harness.runPhase(Duration.ofMillis(1500));
      old.start();
      sentinel.awaitReady();
      harness.phase("the old primary back as a replica");
      harness.runPhase(Duration.ofMillis(1500));
      harness.stopAndVerify();
      // The old primary, back as a replica, may be tracked for a while if Redisson reconnected to
      // it (a node tracked from a connection event is kept for ten topology intervals); then only
      // the primary is.
      await().atMost(Duration.ofSeconds(30))
          .until(() -> redisCache.hubForTest().trackedForTest().equals(Set.of(promoted.address())));
      assertThat(redisCache.isCoherent()).isTrue();
    }
  }
}
