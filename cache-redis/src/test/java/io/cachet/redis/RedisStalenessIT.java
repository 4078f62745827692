package io.cachet.redis;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.redis.RedisServerExtension;
import io.cachet.testkit.redis.RespConnection;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The near cache is never silently stale on a single server (see {@link StalenessHarness}).
 * Midway the test kills the cache's connections ({@code CLIENT KILL TYPE normal}) and later
 * restarts the Redis server (which comes back empty: a read after the restart may find nothing,
 * but never a value from before it).
 */
@Tag("redis")
final class RedisStalenessIT {

  private static final Logger log = LoggerFactory.getLogger(RedisStalenessIT.class);

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private final String prefix = "stale-" + UUID.randomUUID() + ":";

  /** Writes through one plain connection to the server, reopened after a failure. */
  private static final class ServerWrites implements StalenessHarness.Writes {
    private RespConnection connection;

    @Override
    public void set(String redisKey, String value) {
      if (connection == null) {
        connection = RespConnection.open(REDIS.server().host(), REDIS.server().port(), Duration.ofSeconds(1));
      }
      connection.command("SET", redisKey, value);
    }

    @Override
    public void reset() {
      if (connection != null) {
        connection.close();
        connection = null;
      }
    }
  }

  @Test
  void noReadReturnsAValueOlderThanOneAcknowledgedMoreThan100msBefore_acrossKillsAndRestarts() throws Exception {
    try (CacheManager manager = CacheManager.create();
        StalenessHarness harness = new StalenessHarness(prefix, new ServerWrites())) {
      Cache<String, String> cache =
          manager.create(
              CacheConfig.builder("staleness")
                  .backend("redis")
                  .maximumSize(1_000)
                  .backendOptions(
                      RedisOptions.builder()
                          .address(REDIS.server().uri())
                          .keyPrefix(prefix)
                          .commandTimeout(Duration.ofMillis(500))
                          .build())
                  .build());
      harness.phase("before any fault");
      harness.start(cache);
      harness.runFor(Duration.ofMillis(1500));
      // Quiet the writer so nothing heals what the kill breaks, kill the cache's connections,
      // write every key once while its invalidation channel is down (those invalidations are
      // lost), and keep the writer quiet well past the 100 ms bound: only the flush on
      // disconnect keeps the old near copies from being served.
      harness.pauseWriter();
      try (RespConnection chaos = RespConnection.open(REDIS.server().host(), REDIS.server().port(), Duration.ofSeconds(1))) {
        chaos.command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        StalenessHarness.Writes direct = (key, value) -> chaos.command("SET", key, value);
        harness.phase("connections killed");
        for (int k = 0; k < StalenessHarness.KEYS; k++) {
          harness.writeOnce(direct, "k" + k);
        }
      }
      log.info("killed the cache's connections and wrote every key");
      harness.runFor(Duration.ofMillis(300));
      harness.phase("writer resumed");
      harness.resumeWriter();
      harness.runFor(Duration.ofMillis(1500));
      REDIS.server().stop();
      harness.wiped();
      REDIS.server().start();
      log.info("restarted Redis");
      harness.phase("after the restart");
      harness.runPhase(Duration.ofMillis(2000));
      harness.stopAndVerify();
    }
  }
}
