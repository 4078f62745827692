package io.cachet.replicated;

import static org.awaitility.Awaitility.await;

import io.cachet.testkit.kafka.KafkaBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Creates cache topics up front for tests whose subject is not topic set-up, so that they do not
 * depend on how {@link TopicSetup} creates a missing topic (covered by {@code TopicSetupIT},
 * including a new topic the broker does not describe yet right after its creation).
 */
final class TestTopics {

  private TestTopics() {}

  /** Creates a topic fit for a replicated cache and waits until the broker describes it. */
  static void create(KafkaBroker broker, String topic, int partitions) {
    try (Admin admin = admin(broker)) {
      NewTopic newTopic = new NewTopic(topic, Optional.of(partitions), Optional.empty()).configs(Map.of(
          "cleanup.policy", "compact",
          "min.compaction.lag.ms", String.valueOf(ReplicationOptions.DEFAULT_MIN_COMPACTION_LAG.toMillis()),
          "message.timestamp.type", "LogAppendTime"));
      admin.createTopics(List.of(newTopic)).all().get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30))
          .ignoreException(ExecutionException.class)
          .until(() -> admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
              .get(topic).partitions().size() == partitions);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  /** Sets topic configs, as an operator would. */
  static void alter(KafkaBroker broker, String topic, Map<String, String> configs) {
    try (Admin admin = admin(broker)) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      List<AlterConfigOp> ops = configs.entrySet().stream()
          .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET))
          .toList();
      admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot alter topic " + topic, e);
    }
  }

  /** Deletes a topic and waits until it is gone. */
  static void delete(KafkaBroker broker, String topic) {
    try (Admin admin = admin(broker)) {
      admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30))
          .until(() -> !admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic));
    } catch (Exception e) {
      throw new IllegalStateException("cannot delete topic " + topic, e);
    }
  }

  private static Admin admin(KafkaBroker broker) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }
}
