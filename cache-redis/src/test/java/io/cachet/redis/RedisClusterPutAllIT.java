package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.servers.RedisBinary;
import io.cachet.testkit.redis.RedisCluster;
import io.cachet.testkit.redis.RedisClusterExtension;
import io.cachet.testkit.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@code putAll} on a Cluster with one primary down: the keys of the primaries that are up are
 * written once each. A pipeline spanning nodes used to fail as a whole when one node could not be
 * reached and be resent whole, writing the healthy nodes' keys again (over any later write of
 * another client).
 */
@Tag("redis")
final class RedisClusterPutAllIT {

  /** No replicas: the primary killed stays down for the rest of this class. */
  @RegisterExtension
  static final RedisClusterExtension CLUSTER = new RedisClusterExtension(RedisBinary.AUTO, 3, 0);

  private final String prefix = "putall-" + UUID.randomUUID() + ":";

  @Test
  void putAll_withOnePrimaryDown_writesTheOtherPrimariesKeysOnce() {
    RedisCluster cluster = CLUSTER.cluster();
    RedisServer victim = cluster.primaries().get(2);
    RedisServer healthy = cluster.primaries().get(0);
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("putall").backend("redis")
          .keyType(String.class).valueType(String.class)
          .backendOptions(RedisOptions.builder().address(cluster.uri()).keyPrefix(prefix)
              .commandTimeout(Duration.ofSeconds(2)).build())
          .build());
      Map<String, String> entries = new LinkedHashMap<>();
      List<String> onHealthy = new ArrayList<>();
      List<String> onVictim = new ArrayList<>();
      for (int i = 0; entries.size() < 60; i++) {
        String key = "k" + i;
        entries.put(key, "v-" + key);
        RedisServer primary = cluster.primaryFor(prefix + key);
        if (primary == healthy) {
          onHealthy.add(key);
        } else if (primary == victim) {
          onVictim.add(key);
        }
      }
      for (String key : entries.keySet()) {
        cache.put("warm-" + key, "x"); // connections to every primary are open
      }
      victim.kill();
      String probe = onVictim.get(0);
      await().atMost(Duration.ofSeconds(10)).until(() -> { // the client has seen the victim go
        try {
          cache.put(probe, "probe");
          return false;
        } catch (BackendUnavailableException e) {
          return true;
        }
      });
      healthy.command("CONFIG", "RESETSTAT");

      RuntimeException failure = null;
      try {
        cache.putAll(entries);
      } catch (RuntimeException e) {
        failure = e;
      }

      assertThat(onVictim).isNotEmpty();
      assertThat(failure).as("the victim's keys could not be written").isNotNull();
      assertThat(setCalls(healthy)).as("SETs the healthy primary ran").isEqualTo(onHealthy.size());
      for (String key : onHealthy) {
        assertThat(healthy.command("GET", prefix + key)).isEqualTo("v-" + key);
      }
    }
  }

  private static long setCalls(RedisServer server) {
    Matcher calls = Pattern.compile("cmdstat_set:calls=(\\d+)").matcher(String.valueOf(server.command("INFO", "commandstats")));
    return calls.find() ? Long.parseLong(calls.group(1)) : 0;
  }
}
