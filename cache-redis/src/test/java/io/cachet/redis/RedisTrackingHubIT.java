package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.fault.TcpRelay;
import io.cachet.testkit.redis.RedisServer;
import io.cachet.testkit.redis.RedisServerExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The client's invalidation connections: shared by its caches, and distrusted when silent. */
@Tag("redis")
final class RedisTrackingHubIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  /** A silent connection is presumed dead after two ping intervals; slack for a loaded machine. */
  private static final Duration BOUND = RedisClient.PING_INTERVAL.multipliedBy(2);
  private static final Duration SLACK = Duration.ofSeconds(2);
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  private final CacheManager manager = CacheManager.create();
  private final String prefix = "hub-" + UUID.randomUUID() + ":";

  @AfterEach
  void close() {
    manager.close();
  }

  private RedisCache<String, String> cache(String address, String keyPrefix) {
    return manager.create(CacheConfig.builder("c-" + UUID.randomUUID()).backend("redis")
            .backendOptions(RedisOptions.builder().address(address).keyPrefix(keyPrefix)
                .commandTimeout(Duration.ofMillis(500)).build())
            .build())
        .unwrap(RedisCache.class);
  }

  private static long trackingConnections(RedisServer redis) {
    String clients = (String) redis.command("CLIENT", "LIST");
    return Arrays.stream(clients.split("\n"))
        .filter(line -> line.contains(" flags=") && line.split(" flags=")[1].split(" ")[0].contains("t"))
        .count();
  }

  @Test
  void cachesOfOneClient_shareOneTrackingConnection_andEachSeesItsInvalidations() {
    long before = trackingConnections(REDIS.server());
    RedisCache<String, String> a = cache(REDIS.server().uri(), prefix + "a:");
    RedisCache<String, String> b = cache(REDIS.server().uri(), prefix + "b:");
    await().atMost(DEADLINE).until(() -> a.isCoherent() && b.isCoherent());

    assertThat(a.hubForTest()).isSameAs(b.hubForTest());
    assertThat(trackingConnections(REDIS.server()) - before).isEqualTo(1);

    a.put("k", "a1");
    b.put("k", "b1");
    await().atMost(DEADLINE).until(() -> "a1".equals(a.get("k")) && "a1".equals(a.nearValueForTest("k")));
    await().atMost(DEADLINE).until(() -> "b1".equals(b.get("k")) && "b1".equals(b.nearValueForTest("k")));
    REDIS.server().command("SET", prefix + "a:k", "a2");
    REDIS.server().command("SET", prefix + "b:k", "b2");
    await().atMost(DEADLINE).until(() -> a.nearValueForTest("k") == null && b.nearValueForTest("k") == null);
    assertThat(a.get("k")).isEqualTo("a2");
    assertThat(b.get("k")).isEqualTo("b2");
  }

  @Test
  void blackHoledConnection_stopsServingNearCopiesWithinTheBound_andRecovers() {
    try (TcpRelay relay = TcpRelay.start(REDIS.server().host(), REDIS.server().port())) {
      RedisCache<String, String> cache = cache("redis://" + relay.address(), prefix);
      await().atMost(DEADLINE).until(cache::isCoherent);
      cache.put("k", "v1");
      await().atMost(DEADLINE).until(() -> "v1".equals(cache.get("k")) && "v1".equals(cache.nearValueForTest("k")));

      relay.blackHole();
      REDIS.server().command("SET", prefix + "k", "v2"); // its invalidation is stuck in the relay

      await().atMost(BOUND.plus(SLACK)).until(() -> !cache.isCoherent());
      assertThat(cache.nearValueForTest("k")).isNull();
      assertThatThrownBy(() -> cache.get("k")).isInstanceOf(BackendUnavailableException.class);

      relay.pass();
      await().atMost(DEADLINE).until(cache::isCoherent);
      await().atMost(DEADLINE).until(() -> "v2".equals(cache.get("k")));
      await().atMost(DEADLINE).until(() -> "v2".equals(cache.get("k")) && "v2".equals(cache.nearValueForTest("k")));
    }
  }

  @Test
  void clientWhoseCachesAreExpiryOnly_opensNoTrackingConnection() {
    RedisOptions options = RedisOptions.builder().address(REDIS.server().uri()).coherence(Coherence.EXPIRY).build();
    try (RedisClient client = RedisClient.connect(options)) {
      new RedisCache<>(CacheConfig.<String, String>builder("expiry").build(), options, client, c -> {});
      client.hub().reconcile();
      assertThat(client.hub().trackedForTest()).isEmpty();
    }
  }

  /** A hub following the test's Redis with {@code listeners} registered, once it is coherent. */
  private TrackingHub coherentHub(TrackingHub.Listener... listeners) {
    TrackingHub hub = new TrackingHub("hub-test", shortTimeouts(), null, RedisClient.PING_INTERVAL,
        Duration.ofSeconds(10));
    try {
      for (TrackingHub.Listener listener : listeners) {
        hub.register(listener, prefix.getBytes(StandardCharsets.UTF_8));
      }
      hub.follow(() -> Set.of(REDIS.server().host() + ":" + REDIS.server().port()));
      await().atMost(DEADLINE).until(hub::isCoherent);
      return hub;
    } catch (RuntimeException | Error e) {
      hub.close();
      throw e;
    }
  }

  /** Options whose timeouts keep a node tracked from an event for 2.5 s only: 2 x (0.5 + 0.25 + 0.5 s). */
  private static RedisOptions shortTimeouts() {
    return RedisOptions.builder().address(REDIS.server().uri())
        .connectTimeout(Duration.ofMillis(500)).commandTimeout(Duration.ofMillis(250)).build();
  }

  /** Records what a hub tells one cache. */
  private static class Recording implements TrackingHub.Listener {
    final ConcurrentLinkedQueue<String> invalidated = new ConcurrentLinkedQueue<>();
    final AtomicInteger downs = new AtomicInteger();
    final AtomicInteger ups = new AtomicInteger();

    @Override
    public void up() {
      ups.incrementAndGet();
    }

    @Override
    public void down(Throwable cause) {
      downs.incrementAndGet();
    }

    @Override
    public void invalidate(byte[] redisKey) {
      invalidated.add(new String(redisKey, StandardCharsets.UTF_8));
    }

    @Override
    public void invalidateAll() {}

    @Override
    public void unsupported(String reason) {}
  }

  /**
   * One cache failing to take the loss of tracking (here with an Error), or its return, must not
   * keep the others from being told: they would go on serving near entries that nothing
   * invalidates any more, or never use theirs again.
   */
  @Test
  void lossOfTracking_reachesEveryCache_evenAfterOneFailsToTakeIt() {
    Recording failing = new Recording() {
      @Override
      public void up() {
        super.up();
        throw new IllegalStateException("as a cache could");
      }

      @Override
      public void down(Throwable cause) {
        super.down(cause);
        throw new OutOfMemoryError("as a near cache's flush could");
      }
    };
    Recording other = new Recording();
    try (TrackingHub hub = coherentHub(failing, other)) {
      assertThat(other.ups.get()).as("told up, though the first cache threw").isEqualTo(1);
      int downs = other.downs.get();

      hub.dropConnectionsForTest(true);
      await().atMost(DEADLINE).until(() -> other.downs.get() > downs);
      assertThat(failing.downs.get()).isGreaterThan(0);
      assertThat(hub.isCoherent()).isFalse();

      hub.dropConnectionsForTest(false);
      await().atMost(DEADLINE).until(hub::isCoherent); // the channel went on after the Error
    }
  }

  /**
   * One cache failing to take an invalidation (its key codec throwing an Error on another client's
   * key, say) forgets all it holds instead, and the shared connection stays up: the other caches
   * are told that invalidation and the next ones, and are not flushed.
   */
  @Test
  void invalidationOneCacheFailsToTake_isStillDelivered_andTheConnectionStaysUp() {
    AtomicInteger forgotAll = new AtomicInteger();
    Recording failing = new Recording() {
      @Override
      public void invalidate(byte[] redisKey) {
        throw new StackOverflowError("as a key codec could on deeply nested data");
      }

      @Override
      public void invalidateAll() {
        forgotAll.incrementAndGet();
      }
    };
    Recording other = new Recording();
    try (TrackingHub hub = coherentHub(failing, other)) {
      REDIS.server().command("SET", prefix + "bad", "v");
      REDIS.server().command("SET", prefix + "next", "v");

      await().atMost(DEADLINE).until(() -> other.invalidated.contains(prefix + "next"));
      assertThat(other.invalidated).contains(prefix + "bad");
      assertThat(forgotAll.get()).as("the failing cache forgot everything, twice").isEqualTo(2);
      assertThat(other.downs.get()).as("the connection stayed up").isZero();
      assertThat(failing.downs.get()).isZero();
      assertThat(hub.isCoherent()).isTrue();
    }
  }

  /** A cache that can neither take an invalidation nor forget: the connection goes down, and every cache forgets. */
  @Test
  void cacheThatCanNeitherTakeAnInvalidationNorForget_takesTheConnectionDown() {
    Recording broken = new Recording() {
      @Override
      public void invalidate(byte[] redisKey) {
        throw new IllegalStateException("as a broken cache could");
      }

      @Override
      public void invalidateAll() {
        throw new IllegalStateException("as a broken cache could");
      }
    };
    Recording other = new Recording();
    try (TrackingHub hub = coherentHub(broken, other)) {
      REDIS.server().command("SET", prefix + "k", "v");

      await().atMost(DEADLINE).until(() -> other.downs.get() > 0);
      assertThat(other.invalidated).as("told before the connection went down").contains(prefix + "k");
    }
  }

  /**
   * A channel whose thread cannot start (no native thread) is replaced by the next reading of the
   * topology, and the channels started with it start all the same: none is left never started,
   * which would keep the near caches off for good.
   */
  @Test
  void channelThatCannotStart_isReplaced_andTheOthersStartedWithItRun() {
    String live = REDIS.server().host() + ":" + REDIS.server().port();
    String other = "127.0.0.1:1"; // nothing listens: its channel runs, failing to connect
    try (TrackingHub hub = new TrackingHub("hub-test", shortTimeouts(), null, RedisClient.PING_INTERVAL,
        Duration.ofMillis(200))) {
      hub.failingStartsForTest.set(1);
      hub.register(new Recording(), prefix.getBytes(StandardCharsets.UTF_8));
      hub.follow(() -> Set.of(live, other));

      await().atMost(DEADLINE).until(() -> hub.failingStartsForTest.get() == 0);
      await().atMost(DEADLINE).untilAsserted(() -> {
        for (String address : List.of(live, other)) {
          Thread channel = hub.channelThreadForTest(address);
          assertThat(channel).as(address).isNotNull();
          assertThat(channel.getState()).as(address).isNotIn(Thread.State.NEW, Thread.State.TERMINATED);
        }
      });
    }
  }

  @Test
  void nodeRedissonConnectsTo_isTrackedBeforeTheViewShowsIt() {
    // Redisson connects to a new primary before its routing (the view) names it: the hub must
    // track the node from the connection event, and a reconcile against the old view must keep it.
    RedisServer other = RedisServer.create().start();
    Duration topologyInterval = Duration.ofMillis(100);
    RedisOptions options = shortTimeouts();
    try (TrackingHub hub = new TrackingHub("hub-test", options, null, RedisClient.PING_INTERVAL, topologyInterval)) {
      Recording listener = new Recording();
      hub.register(listener, prefix.getBytes(StandardCharsets.UTF_8));
      String first = REDIS.server().host() + ":" + REDIS.server().port();
      String added = other.host() + ":" + other.port();
      hub.follow(() -> Set.of(first));
      await().atMost(DEADLINE).until(hub::isCoherent);

      int downs = listener.downs.get();
      hub.nodeConnected(new InetSocketAddress(other.host(), other.port()));
      assertThat(listener.downs.get()).as("caches told at once, before the new node's channel is up").isEqualTo(downs + 1);
      assertThat(hub.trackedForTest()).containsExactlyInAnyOrder(first, added);
      await().atMost(DEADLINE).until(hub::isCoherent);
      hub.reconcile(); // the view still shows only the first node
      assertThat(hub.trackedForTest()).containsExactlyInAnyOrder(first, added);
      assertThat(hub.isCoherent()).isTrue();

      other.command("SET", prefix + "k", "v");
      await().atMost(DEADLINE).until(() -> listener.invalidated.contains(prefix + "k"));

      // Never shown by the view: dropped once its pin ends, without a loss of coherence.
      await().atMost(DEADLINE).until(() -> {
        hub.reconcile();
        return hub.trackedForTest().equals(Set.of(first));
      });
      assertThat(hub.isCoherent()).isTrue();
    } finally {
      other.close();
    }
  }

  /**
   * Without caches the hub follows neither the view nor connection events: a primary added then is
   * unknown to it. A cache registered afterwards must not be told to trust its near copies until
   * the hub tracks that primary too.
   */
  @Test
  void cacheRegisteredAfterTheLastLeft_isToldUpOnlyOnceTheCurrentViewIsTracked() {
    RedisServer other = RedisServer.create().start();
    try (TrackingHub hub = new TrackingHub("hub-test", shortTimeouts(), null, RedisClient.PING_INTERVAL,
        Duration.ofHours(1))) {
      Recording first = new Recording();
      byte[] keys = prefix.getBytes(StandardCharsets.UTF_8);
      hub.register(first, keys);
      String known = REDIS.server().host() + ":" + REDIS.server().port();
      String added = other.host() + ":" + other.port();
      Set<String> view = new CopyOnWriteArraySet<>(Set.of(known));
      hub.follow(() -> Set.copyOf(view));
      await().atMost(DEADLINE).until(hub::isCoherent);
      hub.unregister(first);
      assertThat(hub.trackedForTest()).as("no channel left open for no cache").isEmpty();
      view.add(added); // a primary added while no cache was registered

      ConcurrentLinkedQueue<Set<String>> trackedAtUp = new ConcurrentLinkedQueue<>();
      Recording second = new Recording() {
        @Override
        public void up() {
          trackedAtUp.add(hub.trackedForTest());
        }
      };
      hub.register(second, keys);

      await().atMost(DEADLINE).until(() -> !trackedAtUp.isEmpty());
      assertThat(trackedAtUp).as("what the hub tracked each time it told the cache up")
          .allSatisfy(tracked -> assertThat(tracked).contains(added));
    } finally {
      other.close();
    }
  }

  /** A channel whose thread ended (here interrupted while it waited to reconnect) is replaced by the next reconcile. */
  @Test
  void channelWhoseThreadEnded_isReplaced_andTheHubComesBack() throws Exception {
    try (TrackingHub hub = new TrackingHub("hub-test", shortTimeouts(), null, RedisClient.PING_INTERVAL,
        Duration.ofHours(1))) {
      Recording listener = new Recording();
      hub.register(listener, prefix.getBytes(StandardCharsets.UTF_8));
      String address = REDIS.server().host() + ":" + REDIS.server().port();
      hub.follow(() -> Set.of(address));
      await().atMost(DEADLINE).until(hub::isCoherent);

      hub.dropConnectionsForTest(true);
      await().atMost(DEADLINE).until(() -> !hub.isCoherent());
      Thread channel = hub.channelThreadForTest(address);
      channel.interrupt(); // it ends instead of reconnecting
      channel.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(channel.isAlive()).isFalse();
      hub.dropConnectionsForTest(false);

      hub.reconcile();
      assertThat(hub.channelThreadForTest(address)).isNotSameAs(channel);
      await().atMost(DEADLINE).until(hub::isCoherent);
    }
  }

  /**
   * ... and when the last cache leaves, the channels close (nothing would read what they receive)
   * and none opens again, nor does the hub turn coherent, until a cache registers.
   */
  @Test
  void lastCacheLeaving_closesTheChannels_andNoneReopensWithoutACache() {
    try (TrackingHub hub = new TrackingHub("hub-test", shortTimeouts(), null, RedisClient.PING_INTERVAL,
        Duration.ofHours(1))) {
      Recording only = new Recording();
      hub.register(only, prefix.getBytes(StandardCharsets.UTF_8));
      hub.follow(() -> Set.of(REDIS.server().host() + ":" + REDIS.server().port()));
      await().atMost(DEADLINE).until(hub::isCoherent);
      long tracking = trackingConnections(REDIS.server());
      hub.unregister(only);
      assertThat(hub.isCoherent()).isFalse();
      await().atMost(DEADLINE).until(() -> trackingConnections(REDIS.server()) == tracking - 1);

      hub.reconcile(); // as the periodic one: without caches it opens nothing
      assertThat(hub.trackedForTest()).isEmpty();
      await().during(Duration.ofMillis(500)).atMost(DEADLINE)
          .until(() -> !hub.isCoherent() && trackingConnections(REDIS.server()) == tracking - 1);
    }
  }

  @Test
  void nodeTrackedFromAnEvent_staysWhileTheViewShowsIt() {
    RedisServer other = RedisServer.create().start();
    RedisOptions options = shortTimeouts();
    try (TrackingHub hub = new TrackingHub("hub-test", options, null, RedisClient.PING_INTERVAL, Duration.ofMillis(50))) {
      hub.register(new Recording(), prefix.getBytes(StandardCharsets.UTF_8));
      String first = REDIS.server().host() + ":" + REDIS.server().port();
      String added = other.host() + ":" + other.port();
      Set<String> view = new CopyOnWriteArraySet<>(Set.of(first));
      hub.follow(() -> Set.copyOf(view));
      await().atMost(DEADLINE).until(hub::isCoherent);
      hub.nodeConnected(new InetSocketAddress(other.host(), other.port()));
      view.add(added); // the view catches up
      await().atMost(DEADLINE).until(hub::isCoherent);
      // Past the pin, after which a node the view never showed would be dropped.
      await().during(hub.eventPinForTest().plusMillis(500)).atMost(DEADLINE).until(() -> {
        hub.reconcile();
        return hub.trackedForTest().equals(Set.of(first, added));
      });
      view.remove(added); // and later leaves it: the node goes at once
      hub.reconcile();
      assertThat(hub.trackedForTest()).containsExactly(first);
    } finally {
      other.close();
    }
  }
}
