package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node whose replication threads stand still (as a process stopped by SIGSTOP, or a long GC
 * pause) while another node takes writes: it is not ready while held, and once released it reports
 * ready only when every write acknowledged during the pause is readable on it. The consumer's own
 * view of the end offsets is as old as the pause, so it alone would report lag 0 at once.
 */
@Tag("kafka")
final class ReadinessAfterPauseIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private final List<CacheManager> managers = new ArrayList<>();

  @AfterEach
  void closeNodes() {
    managers.forEach(CacheManager::close);
  }

  @Test
  void isReady_afterAPause_onlyOnceTheWritesMadeDuringItAreApplied() {
    String topic = "ready-after-pause";
    TestTopics.create(KAFKA.broker(), topic, 2);
    Cache<String, String> writer = node(topic, "writer");
    Cache<String, String> paused = node(topic, "paused");
    ReplicatedCache<?, ?> replicated = paused.unwrap(ReplicatedCache.class);
    writer.put("before", "b");
    await().atMost(Duration.ofSeconds(30)).until(() -> "b".equals(paused.get("before")));
    assertThat(replicated.isReady()).isTrue();
    assertThat(TopicLog.metric(paused, "cache.replication.view.age.ms")).as("confirmed when its replay ended")
        .isBetween(0.0, 30_000.0);

    Map<String, String> acknowledged = new LinkedHashMap<>();
    paused.unwrap(ReplicatedKafkaCache.class).holdForTest(true);
    try {
      for (int i = 0; i < 50; i++) {
        writer.put("during-" + i, "v" + i);
        acknowledged.put("during-" + i, "v" + i);
      }
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
          .until(() -> !replicated.isReady() && !replicated.status().ready());
      assertThat(paused.get("before")).as("reads keep working while paused").isEqualTo("b");
    } finally {
      paused.unwrap(ReplicatedKafkaCache.class).holdForTest(false);
    }

    // From the moment it is released: whenever it says ready, every acknowledged write is there.
    List<String> missingWhenReady = new ArrayList<>();
    await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).until(() -> {
      boolean ready = replicated.isReady();
      if (ready) {
        acknowledged.forEach((k, v) -> {
          if (!v.equals(paused.get(k))) {
            missingWhenReady.add(k);
          }
        });
      }
      return ready;
    });
    assertThat(missingWhenReady).as("acknowledged writes not readable once ready again").isEmpty();
    assertThat(replicated.status().ready()).isTrue();
  }

  private Cache<String, String> node(String topic, String nodeId) {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager.create(CacheConfig.builder(topic + "-" + nodeId)
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic(topic)
            .nodeId(nodeId)
            .writeTimeout(Duration.ofSeconds(5))
            .build())
        .build());
  }
}
