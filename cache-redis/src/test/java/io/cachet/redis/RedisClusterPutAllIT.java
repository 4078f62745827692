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
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@code putAll} on a Cluster with one primary down: the keys of the primaries that are up are
 * written once each. A pipeline spanning nodes used to fail as a whole when one node could not be
 * reached and be resent whole, writing the healthy nodes' keys again (over any later write of
 * another client). The same holds for a pipeline that one node partly applies and partly
 * redirects to another.
 */
@Tag("redis")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // each kills a primary; primaries() lists the running ones
final class RedisClusterPutAllIT {

  /** No replicas: the primary killed stays down for the rest of this class. */
  @RegisterExtension
  static final RedisClusterExtension CLUSTER = new RedisClusterExtension(RedisBinary.AUTO, 3, 0);

  private final String prefix = "putall-" + UUID.randomUUID() + ":";

  @Test
  @Order(1)
  void putAll_withOnePrimaryDown_writesTheOtherPrimariesKeysOnce() {
    RedisCluster cluster = CLUSTER.cluster();
    RedisServer victim = cluster.primaries().get(2);
    RedisServer healthy = cluster.primaries().get(0);
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = clusterCache(manager, cluster, "putall", prefix);
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
      awaitUnreachable(cache, onVictim.get(0));
      healthy.command("CONFIG", "RESETSTAT");

      RuntimeException failure = putAllFailure(cache, entries);

      assertThat(onVictim).isNotEmpty();
      assertThat(failure).as("the victim's keys could not be written").isNotNull();
      assertThat(setCalls(healthy)).as("SETs the healthy primary ran").isEqualTo(onHealthy.size());
      for (String key : onHealthy) {
        assertThat(healthy.command("GET", prefix + key)).isEqualTo("v-" + key);
      }
    }
  }

  /**
   * One node's pipeline partly applied there and partly redirected ({@code ASK}, a slot being
   * migrated) to a node that cannot be reached: the keys the first node applied are not written
   * again when the redirected ones are resent. Runs after the other test, on the two primaries it
   * left running.
   */
  @Test
  @Order(2)
  void putAll_partlyRedirectedToANodeThatIsDown_doesNotWriteTheAppliedKeysAgain() {
    RedisCluster cluster = CLUSTER.cluster();
    RedisServer source = cluster.primaries().get(0);
    RedisServer target = cluster.primaries().get(1);
    String tagged = null;
    while (tagged == null || !servedBy(cluster, tagged + "x", source)) {
      tagged = "ask-{" + UUID.randomUUID() + "}:"; // one hash tag: every key in one slot, on source
    }
    String slot = Integer.toString(cluster.slotOf(tagged + "x"));
    Map<String, String> entries = new LinkedHashMap<>();
    List<String> present = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String key = "k" + i;
      entries.put(key, "v-" + key);
      if (i % 2 == 0) {
        present.add(key);
        source.command("SET", tagged + key, "old"); // stays on source: written there, not asked on
      }
    }
    String onTarget = null;
    for (int i = 0; onTarget == null || !servedBy(cluster, prefix + onTarget, target); i++) {
      onTarget = "t" + i;
    }
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = clusterCache(manager, cluster, "ask", tagged);
      Cache<String, String> probe = clusterCache(manager, cluster, "probe", prefix);
      cache.put("warm", "x");
      probe.put(onTarget, "x"); // a connection to the target is open
      target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", (String) source.command("CLUSTER", "MYID"));
      source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", (String) target.command("CLUSTER", "MYID"));
      try {
        target.kill();
        awaitUnreachable(probe, onTarget);
        source.command("CONFIG", "RESETSTAT");

        RuntimeException failure = putAllFailure(cache, entries);

        assertThat(failure).as("the keys asked to the target could not be written").isNotNull();
        assertThat(setCalls(source)).as("SETs the source ran").isEqualTo(present.size());
        for (String key : present) {
          assertThat(source.command("GET", tagged + key)).isEqualTo("v-" + key);
        }
      } finally {
        source.command("CLUSTER", "SETSLOT", slot, "STABLE");
      }
    }
  }

  /** A cache of strings on {@code cluster}, its keys under {@code keyPrefix}, with a 2 s command timeout. */
  private static Cache<String, String> clusterCache(
      CacheManager manager, RedisCluster cluster, String name, String keyPrefix) {
    return manager.create(CacheConfig.builder(name).backend("redis")
        .keyType(String.class).valueType(String.class)
        .backendOptions(RedisOptions.builder().address(cluster.uri()).keyPrefix(keyPrefix)
            .commandTimeout(Duration.ofSeconds(2)).build())
        .build());
  }

  /** Waits until a write of {@code key} fails as unavailable: the client has seen its node go. */
  private static void awaitUnreachable(Cache<String, String> cache, String key) {
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      try {
        cache.put(key, "probe");
        return false;
      } catch (BackendUnavailableException e) {
        return true;
      }
    });
  }

  /** What {@code putAll(entries)} threw, or null. */
  private static @Nullable RuntimeException putAllFailure(Cache<String, String> cache, Map<String, String> entries) {
    try {
      cache.putAll(entries);
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  /** Whether {@code node} serves {@code key}'s slot; false for a slot of a primary that is down. */
  private static boolean servedBy(RedisCluster cluster, String key, RedisServer node) {
    try {
      return cluster.primaryFor(key) == node;
    } catch (IllegalStateException noRunningPrimary) {
      return false;
    }
  }

  private static long setCalls(RedisServer server) {
    Matcher calls = Pattern.compile("cmdstat_set:calls=(\\d+)").matcher(String.valueOf(server.command("INFO", "commandstats")));
    return calls.find() ? Long.parseLong(calls.group(1)) : 0;
  }
}
