package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.redis.RedisCluster;
import io.cachet.testkit.redis.RedisClusterExtension;
import io.cachet.testkit.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The near cache is never silently stale on a Redis Cluster (see {@link StalenessHarness}) while a
 * primary is SIGKILLed and its replica takes over, and while a slot is migrated under load and its
 * keys are then written on their new node; and reads of the other primaries' keys are served while
 * one primary is down.
 */
@Tag("redis")
final class RedisClusterStalenessIT {

  private static final Logger log = LoggerFactory.getLogger(RedisClusterStalenessIT.class);

  @RegisterExtension static final RedisClusterExtension CLUSTER = new RedisClusterExtension();

  private final String prefix = "stale-" + UUID.randomUUID() + ":";

  private RedisCache<?, ?> start(CacheManager manager, StalenessHarness harness) {
    Cache<String, String> cache = manager.create(CacheConfig.builder("staleness").backend("redis").maximumSize(1_000)
        .backendOptions(RedisOptions.builder().address(CLUSTER.cluster().uri()).keyPrefix(prefix)
            .commandTimeout(Duration.ofMillis(500)).build())
        .build());
    RedisCache<?, ?> redisCache = cache.unwrap(RedisCache.class);
    await().atMost(Duration.ofSeconds(30)).until(redisCache::isCoherent);
    harness.start(cache);
    return redisCache;
  }

  /** The harness's keys ({@code "k0"} to {@code "k15"}) whose slots {@code primary} serves. */
  private Set<String> keysOn(RedisCluster cluster, RedisServer primary) {
    Set<String> keys = new java.util.HashSet<>();
    for (int k = 0; k < StalenessHarness.KEYS; k++) {
      if (cluster.primaryFor(prefix + "k" + k) == primary) {
        keys.add("k" + k);
      }
    }
    return keys;
  }

  private static Set<String> primaries(RedisCluster cluster) {
    return cluster.primaries().stream().map(RedisServer::address).collect(Collectors.toSet());
  }

  @Test
  void primaryKilledAndFailedOver_noStaleRead() throws Exception {
    RedisCluster cluster = CLUSTER.cluster();
    TopologyWrites writes = new TopologyWrites(cluster::primaryFor);
    try (CacheManager manager = CacheManager.create();
        StalenessHarness harness = new StalenessHarness(prefix, writes)) {
      harness.phase("before the failover");
      RedisCache<?, ?> cache = start(manager, harness);
      assertThat(cache.hubForTest().trackedForTest()).isEqualTo(primaries(cluster));
      harness.runFor(Duration.ofMillis(1500));

      RedisServer victim = cluster.primaryFor(prefix + "k0");
      Set<String> victimKeys = keysOn(cluster, victim);
      victim.kill();
      cluster.awaitHealthy();
      log.info("{} killed and failed over", victim.address());
      await().atMost(Duration.ofSeconds(30))
          .until(() -> cache.hubForTest().trackedForTest().equals(primaries(cluster)) && cache.isCoherent());
      writes.acceptUnreplicated(); // the promoted replica has none of its own until the victim is back
      harness.phase("after the failover, the victim's keys", victimKeys::contains);
      harness.runPhase(Duration.ofMillis(1500));
      victim.start();
      cluster.awaitHealthy();
      harness.phase("the victim back as a replica, its keys", victimKeys::contains);
      harness.runPhase(Duration.ofMillis(1500));
      harness.stopAndVerify();
    }
  }

  @Test
  void primaryKilled_readsOfTheOtherPrimariesKeysAreServed() throws Exception {
    RedisCluster cluster = CLUSTER.cluster();
    cluster.awaitHealthy();
    RedisServer victim = cluster.primaryFor(prefix + "k0");
    try {
      readsWhileOnePrimaryIsDown(cluster, victim, Duration.ofMillis(500), victim::kill);
    } finally {
      cluster.awaitHealthy();
      victim.start();
      cluster.awaitHealthy();
    }
  }

  @Test
  void primaryNotAnswering_readsOfTheOtherPrimariesKeysAreServed() throws Exception {
    RedisCluster cluster = CLUSTER.cluster();
    cluster.awaitHealthy();
    RedisServer victim = cluster.primaryFor(prefix + "k0");
    // Blocked for less than cluster-node-timeout: its connections stay open and nothing fails over.
    Thread sleeper = new Thread(() -> victim.command("DEBUG", "SLEEP", "0.9"), "debug-sleep");
    try {
      readsWhileOnePrimaryIsDown(cluster, victim, Duration.ofMillis(250), () -> {
        sleeper.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> sleeper.getState() != Thread.State.NEW);
      });
    } finally {
      sleeper.join(10_000);
      cluster.awaitHealthy();
    }
  }

  /**
   * Reads 400 keys spread over every primary concurrently, right after {@code fault} took
   * {@code victim} down: only the victim's keys may fail.
   */
  private void readsWhileOnePrimaryIsDown(RedisCluster cluster, RedisServer victim, Duration commandTimeout,
      Runnable fault) throws Exception {
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("availability").backend("redis")
          .maximumSize(10_000)
          .backendOptions(RedisOptions.builder().address(cluster.uri()).keyPrefix(prefix)
              .commandTimeout(commandTimeout).build())
          .build());
      List<String> keys = new ArrayList<>();
      Set<String> onVictim = new java.util.HashSet<>();
      for (int i = 0; i < 400; i++) {
        String key = "fresh-" + i;
        keys.add(key);
        if (cluster.primaryFor(prefix + key) == victim) {
          onVictim.add(key);
        }
      }
      assertThat(cache.get("warm-up")).isNull(); // connections to every primary are open

      fault.run();
      // Concurrent near misses, so they share batches spread over every primary.
      List<CompletableFuture<String>> reads = new ArrayList<>();
      Set<String> failedOn = java.util.concurrent.ConcurrentHashMap.newKeySet();
      for (String key : keys) {
        CompletableFuture<String> read = cache.async().get(key).toCompletableFuture();
        read.whenComplete((v, e) -> {
          if (e != null) {
            failedOn.add(Thread.currentThread().getName().replaceAll("\\d+", "N"));
          }
        });
        reads.add(read);
      }
      List<String> failed = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        try {
          reads.get(i).get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          failed.add(keys.get(i));
        }
      }
      log.info("{} of {} reads failed while {} was down; {} of its keys", failed.size(), keys.size(),
          victim.address(), onVictim.size());
      assertThat(failed).as("only keys of the primary that is down fail").isSubsetOf(onVictim);
      assertThat(failed).as("the fault was real").isNotEmpty();
      // "main": the read had failed before its callback was attached, which then runs on the caller
      // (seen once on a loaded machine, with 400 reads issued against a 250 ms command timeout).
      assertThat(failedOn).as("threads that failed reads: the completion pool, never Redisson's event loop")
          .allSatisfy(thread -> assertThat(thread).matches("cachet-redis-completions-.*|main"));
    }
  }

  @Test
  void slotMigratedUnderLoad_thenWrittenOnItsNewNode_noStaleRead() throws Exception {
    RedisCluster cluster = CLUSTER.cluster();
    try (CacheManager manager = CacheManager.create();
        StalenessHarness harness = new StalenessHarness(prefix, new TopologyWrites(cluster::primaryFor))) {
      harness.phase("before the migration");
      start(manager, harness);
      harness.runFor(Duration.ofMillis(1500));

      int slot = cluster.slotOf(prefix + "k3");
      RedisServer source = cluster.primaryForSlot(slot);
      RedisServer target = cluster.primaries().stream().filter(n -> n != source).findFirst().orElseThrow();
      cluster.migrateSlot(slot, target);
      log.info("slot {} moved from {} to {}", slot, source.address(), target.address());
      assertThat(cluster.primaryFor(prefix + "k3")).isSameAs(target);
      harness.phase("after the migration, the migrated key", "k3"::equals);
      harness.runPhase(Duration.ofMillis(2500));
      harness.stopAndVerify();
    }
  }
}
