package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
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
