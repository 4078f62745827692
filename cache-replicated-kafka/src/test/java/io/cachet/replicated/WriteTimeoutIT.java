package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Writes whose record reaches the log but is not applied locally in time. The node's consumer is
 * held back deterministically: with {@code fetch.min.bytes} far above what the topic holds, the
 * broker parks every fetch for the whole {@code fetch.max.wait.ms}, so the replica applies nothing
 * for that long while the producer's records are acknowledged at once. Each test ends long before
 * the parked fetch returns.
 */
@Tag("kafka")
final class WriteTimeoutIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger CACHES = new AtomicInteger();
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(2);
  /** How long the broker holds each fetch of the slow node. */
  private static final Duration FETCH_WAIT = Duration.ofSeconds(15);

  private CacheManager manager;

  @BeforeEach
  void setUp() {
    manager = CacheManager.create();
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  @Test
  void put_recordInLogButNotAppliedInTime_throwsReplicationTimeoutWithOffsets() {
    Cache<String, String> cache = slowConsumerCache();

    long started = System.nanoTime();
    ReplicationTimeoutException e =
        catchThrowableOfType(ReplicationTimeoutException.class, () -> cache.put("k", "v1"));
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(e).as("put must fail with ReplicationTimeoutException").isNotNull();
    assertThat(took).isLessThan(WRITE_TIMEOUT.multipliedBy(3));
    assertThat(e.partition()).isZero();
    assertThat(e.targetOffset()).as("the offset of the write's record").isZero();
    assertThat(e.reachedOffset()).as("nothing applied yet").isZero();
    assertThat(e.reachedOffset()).isLessThanOrEqualTo(e.targetOffset());
    assertThat(e.getMessage())
        .contains("'k'")
        .contains("reached the log")
        .contains(topicOf(cache) + "-0");

    // The write was not lost: it is in the log, where any other node reads it.
    try (CacheManager other = CacheManager.create()) {
      Cache<String, String> reader = other.create(config(topicOf(cache), "reader", ReplicationOptions.builder()));
      assertThat(reader.get("k")).isEqualTo("v1");
    }
  }

  @Test
  void readLatest_replicaBehindTheLog_throwsReplicationTimeoutWithOffsets() {
    Cache<String, String> slow = slowConsumerCache();
    String topic = topicOf(slow);
    try (CacheManager other = CacheManager.create()) {
      Cache<String, String> writer = other.create(config(topic, "writer", ReplicationOptions.builder()));
      writer.put("k", "v1");
      writer.put("k", "v2");

      ReplicationTimeoutException e = catchThrowableOfType(
          ReplicationTimeoutException.class, () -> replicated(slow).readLatest("k"));

      assertThat(e).as("readLatest must fail with ReplicationTimeoutException").isNotNull();
      assertThat(e.partition()).isZero();
      assertThat(e.reachedOffset()).isZero();
      assertThat(e.targetOffset()).as("the last offset the barrier waited for").isEqualTo(1);
    }
  }

  @Test
  void asyncGetAll_readLatestWhileTheReplicaIsBehind_returnsWithoutWaitingForTheBarrier() {
    Cache<String, String> slow = slowConsumerCache(ReplicationOptions.builder().readLatest(true));
    try (CacheManager other = CacheManager.create()) {
      Cache<String, String> writer = other.create(config(topicOf(slow), "writer", ReplicationOptions.builder()));
      writer.put("k", "v1");

      long started = System.nanoTime();
      CompletableFuture<Map<String, String>> all = slow.async().getAll(List.of("k")).toCompletableFuture();
      Duration took = Duration.ofNanos(System.nanoTime() - started);

      assertThat(took).as("the caller's thread does not wait for the read barrier").isLessThan(Duration.ofSeconds(1));
      // The replica is held back, so the barrier fails at the write timeout, on the stage.
      assertThat(catchThrowable(all::join)).hasCauseInstanceOf(ReplicationTimeoutException.class);
    }
  }

  /** A ready node whose replica applies nothing for {@link #FETCH_WAIT} after each fetch. */
  private Cache<String, String> slowConsumerCache() {
    return slowConsumerCache(ReplicationOptions.builder());
  }

  private Cache<String, String> slowConsumerCache(ReplicationOptions.Builder options) {
    String topic = "write-timeout-" + CACHES.incrementAndGet();
    TestTopics.create(KAFKA.broker(), topic, 1);
    Cache<String, String> cache = manager.create(config(topic, "slow", options
        .kafkaProperty("fetch.min.bytes", String.valueOf(64 << 20))
        .kafkaProperty("fetch.max.wait.ms", String.valueOf(FETCH_WAIT.toMillis()))));
    // The topic is empty, so the replay is done before the first fetch.
    assertThat(cache.unwrap(ReplicatedCache.class).isReady()).isTrue();
    return cache;
  }

  @SuppressWarnings("unchecked")
  private static ReplicatedCache<String, String> replicated(Cache<String, String> cache) {
    return cache.unwrap(ReplicatedCache.class);
  }

  private static String topicOf(Cache<?, ?> cache) {
    return cache.unwrap(ReplicatedCache.class).status().topic();
  }

  private static CacheConfig config(String topic, String nodeId, ReplicationOptions.Builder options) {
    return CacheConfig.builder(topic + "-" + nodeId)
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(options
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic(topic)
            .nodeId(nodeId)
            .writeTimeout(WRITE_TIMEOUT)
            .build())
        .build();
  }
}
