package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node whose position is no longer in the log (the topic deleted and recreated; on a compacted
 * topic, the other cause is a log truncated by an unclean leader election, since Kafka refuses
 * delete-records there) never rewinds silently on top of its state: it logs an ERROR with the offsets, is not
 * ready while it rebuilds its replica from an empty state, and then holds exactly what the log holds.
 */
@Tag("kafka")
final class RebuildIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private final List<CacheManager> managers = new ArrayList<>();

  @AfterEach
  void closeNodes() {
    managers.forEach(CacheManager::close);
  }

  @Test
  void topicDeletedAndRecreated_replicaRebuiltFromTheNewLog() {
    String topic = "rebuild-recreated";
    TestTopics.create(KAFKA.broker(), topic, 1);
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      Cache<String, String> a = node(topic, "a");
      for (int i = 0; i < 5; i++) {
        a.put("old-" + i, "v" + i);
      }

      TestTopics.delete(KAFKA.broker(), topic);
      TestTopics.create(KAFKA.broker(), topic, 1);

      await().atMost(Duration.ofSeconds(60)).until(() -> TopicLog.metric(a, "cache.replication.rebuilds") == 1);
      assertThat(logs.errors()).anySatisfy(e -> assertThat(e)
          .contains(topic).contains("no longer in the log").contains("out of range").contains("rebuilt"));
      await().atMost(Duration.ofSeconds(30)).until(() -> a.unwrap(ReplicatedCache.class).isReady());
      assertThat(a.get("old-0")).as("keys the new log does not have are gone").isNull();
      assertThat(a.estimatedSize()).isZero();

      Cache<String, String> b = node(topic, "b");
      b.put("new", "n");
      await().atMost(Duration.ofSeconds(30)).until(() -> "n".equals(a.get("new")));
      a.put("old-1", "again");
      assertThat(b.get("old-0")).isNull();
      await().atMost(Duration.ofSeconds(30)).until(() -> "again".equals(b.get("old-1")));
    }
  }

  @Test
  void topicDeletedAndRecreatedWhileRunning_replicaRebuiltOnce() {
    String topic = "rebuild-recreated-once";
    TestTopics.create(KAFKA.broker(), topic, 1);
    Cache<String, String> a = node(topic, "a");
    for (int i = 0; i < 5; i++) {
      a.put("old-" + i, "v" + i);
    }

    TestTopics.delete(KAFKA.broker(), topic);
    TestTopics.create(KAFKA.broker(), topic, 1);

    ReplicatedCache<?, ?> node = a.unwrap(ReplicatedCache.class);
    await().atMost(Duration.ofSeconds(60))
        .until(() -> TopicLog.metric(a, "cache.replication.rebuilds") >= 1 && node.isReady());
    // The positions left the log first; the periodic topic-id check, which runs every 2 s, must then
    // find the id the rebuild already read, not empty the replica a second time.
    Duration checks = Duration.ofNanos(Fetcher.TOPIC_ID_CHECK_NANOS).plusMillis(500); // one check at least
    await().during(checks).atMost(checks.plusSeconds(1))
        .until(() -> TopicLog.metric(a, "cache.replication.rebuilds") == 1 && node.isReady());
    a.put("new", "n");
    assertThat(a.get("new")).isEqualTo("n");
  }

  @Test
  void topicRecreatedAndWrittenPastANodesPositionWhileItWasStopped_replicaRebuiltFromTheNewLog() {
    String topic = "rebuild-recreated-longer";
    TestTopics.create(KAFKA.broker(), topic, 1);
    Cache<String, String> a = node(topic, "a");
    for (int i = 0; i < 3; i++) {
      a.put("old-" + i, "v" + i);
    }
    ReplicatedKafkaCache<?, ?> stopped = a.unwrap(ReplicatedKafkaCache.class);
    stopped.holdForTest(true); // as a stopped process: it fetches nothing meanwhile
    try {
      TestTopics.delete(KAFKA.broker(), topic);
      TestTopics.create(KAFKA.broker(), topic, 1);
      Cache<String, String> b = node(topic, "b");
      for (int i = 0; i < 10; i++) {
        b.put("new-" + i, "n" + i); // the new log passes a's position (3)
      }
    } finally {
      stopped.holdForTest(false);
    }
    // The positions stay inside the new log, so only the topic id tells (checked every 2 s).
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> TopicLog.metric(a, "cache.replication.rebuilds") == 1 && "n9".equals(a.get("new-9")));
    assertThat(a.get("old-0")).as("a key only the old log had").isNull();
    assertThat(a.get("new-0")).as("a key of the new log below a's old position").isEqualTo("n0");
  }

  @Test
  void topicDeletedThenAutoCreatedByAWrite_nodeStopsNamingTheTopicsPolicy() {
    String topic = "rebuild-auto-created";
    TestTopics.create(KAFKA.broker(), topic, 1);
    Cache<String, String> a = node(topic, "a");
    for (int i = 0; i < 5; i++) {
      a.put("old-" + i, "v" + i);
    }
    TestTopics.delete(KAFKA.broker(), topic);

    // The write's producer asks for the topic, and the broker (auto.create.topics.enable, Kafka's
    // default) creates it with its own defaults: cleanup.policy=delete, which would drop live keys.
    try {
      a.put("written-while-gone", "v");
    } catch (RuntimeException expected) {
      // failed or timed out: the node stops rather than rebuild onto that topic
    }
    ReplicatedKafkaCache<?, ?> node = a.unwrap(ReplicatedKafkaCache.class);
    await().atMost(Duration.ofSeconds(60)).until(() -> node.replicaFailure() != null);
    assertThat(node.replicaFailure()).hasMessageContaining(topic).hasMessageContaining("cleanup.policy=delete");
    await().atMost(Duration.ofSeconds(5)).until(() -> !node.isReady());
    assertThat(TopicLog.metric(a, "cache.replication.rebuilds")).as("no rebuild onto the unfit topic").isZero();
    assertThatThrownBy(() -> a.get("old-0")).as("a stopped replica serves nothing").hasMessageContaining("stopped");
  }

  @Test
  void partitionsAdded_nodeStopsNamingTheCount() throws Exception {
    String topic = "rebuild-partitions-added";
    TestTopics.create(KAFKA.broker(), topic, 1);
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    // Metadata refreshed every 500 ms instead of 5 minutes, so the test need not wait that long.
    Cache<String, String> a = manager.create(config(topic, "a",
        ReplicationOptions.builder().kafkaProperty("metadata.max.age.ms", "500")));
    a.put("k", "v");

    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
        java.util.Map.of("bootstrap.servers", KAFKA.broker().bootstrapServers()))) {
      admin.createPartitions(java.util.Map.of(topic, org.apache.kafka.clients.admin.NewPartitions.increaseTo(2)))
          .all().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    ReplicatedKafkaCache<?, ?> node = a.unwrap(ReplicatedKafkaCache.class);
    await().atMost(Duration.ofSeconds(30)).until(() -> node.replicaFailure() != null);
    assertThat(node.replicaFailure()).hasMessageContaining(topic).hasMessageContaining("has 2 partition(s)")
        .hasMessageContaining("started with 1");
    assertThat(node.isReady()).as("a stopped replica is not ready").isFalse();
    assertThatThrownBy(() -> a.get("k")).as("a stopped replica serves nothing").hasMessageContaining("stopped");
  }

  private Cache<String, String> node(String topic, String nodeId) {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager.create(config(topic, nodeId, ReplicationOptions.builder()));
  }

  private static CacheConfig<String, String> config(String topic, String nodeId, ReplicationOptions.Builder options) {
    return CacheConfig.builder(topic + "-" + nodeId)
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(options
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic(topic)
            .nodeId(nodeId)
            .writeTimeout(Duration.ofSeconds(5))
            .build())
        .build();
  }
}
