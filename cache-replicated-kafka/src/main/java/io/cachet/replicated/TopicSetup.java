package io.cachet.replicated;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates a cache's topic if it is missing, and checks that an existing one is fit for the job. */
final class TopicSetup {

  private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

  private TopicSetup() {}

  /** How long {@link #verify} waits for each answer of the brokers. */
  static final Duration VERIFY_TIMEOUT = Duration.ofSeconds(5);

  /** What the backend needs to know about its topic. */
  record TopicInfo(int partitions, long deleteRetentionMillis, String topicId) {}

  /**
   * Ensures the topic exists with compaction and a long enough compaction lag; returns its
   * partition count and tombstone retention.
   *
   * @throws IllegalStateException when an existing topic is unfit (delete policy, short lag)
   * @throws BackendUnavailableException when the brokers cannot be reached in time
   */
  static TopicInfo ensure(Admin admin, String topic, ReplicationOptions options) {
    Duration timeout = options.writeTimeout().plusSeconds(5);
    try {
      Optional<TopicDescription> existing = describe(admin, topic, timeout);
      if (existing.isEmpty()) {
        create(admin, topic, options, timeout);
        // Metadata reaches every broker shortly after creation; describe until it has.
        long until = System.nanoTime() + timeout.toNanos();
        existing = describe(admin, topic, timeout);
        while (existing.isEmpty() && System.nanoTime() < until) {
          Thread.sleep(50);
          existing = describe(admin, topic, timeout);
        }
        if (existing.isEmpty()) {
          throw new BackendUnavailableException(
              "topic '" + topic + "' was created but the brokers did not report it within " + timeout, null);
        }
      }
      long deleteRetention = check(admin, topic, options, timeout);
      int partitions = existing.get().partitions().size();
      if (partitions != options.partitions()) {
        LOG.info("Topic '{}' exists with {} partition(s); using them (partitions={} applies only to new topics)",
            topic, partitions, options.partitions());
      }
      return new TopicInfo(partitions, deleteRetention, String.valueOf(existing.get().topicId()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while setting up topic '" + topic + "'", e);
    } catch (TimeoutException e) {
      throw new BackendUnavailableException(
          "Kafka at " + options.bootstrapServers() + " did not answer within " + timeout + " while setting up topic '"
              + topic + "'", e);
    }
  }

  /**
   * Checks that the topic a running node reads still suits it: it exists, with the partition
   * count the node started with and the settings {@link #ensure} requires. Run when the node's
   * positions left the log (the topic was deleted, and perhaps recreated by a producer's write with
   * the broker's defaults if {@code auto.create.topics.enable} is on).
   *
   * @throws IllegalStateException when the topic is unfit: the node must not go on with it
   * @throws BackendUnavailableException when the brokers cannot be reached in time, or the topic
   *     does not exist (yet): worth asking again later
   */
  static void verify(Admin admin, String topic, ReplicationOptions options, int partitions) {
    // Short: the fetch thread waits for it, and a cache that closes meanwhile waits for that.
    Duration timeout = VERIFY_TIMEOUT;
    try {
      Optional<TopicDescription> existing = describe(admin, topic, timeout);
      if (existing.isEmpty()) {
        throw new BackendUnavailableException("topic '" + topic + "' does not exist", null);
      }
      int now = existing.get().partitions().size();
      if (now != partitions) {
        throw partitionCountChanged(topic, partitions, now);
      }
      check(admin, topic, options, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while checking topic '" + topic + "'", e);
    } catch (TimeoutException e) {
      throw new BackendUnavailableException(
          "Kafka at " + options.bootstrapServers() + " did not answer within " + timeout + " while checking topic '"
              + topic + "'", e);
    }
  }

  /**
   * The topic's id now, as {@link TopicInfo#topicId()} gives it; null when the topic does not
   * exist at the moment.
   *
   * @throws BackendUnavailableException when the brokers cannot be reached in time
   */
  static @Nullable String topicId(Admin admin, String topic, ReplicationOptions options) {
    try {
      return describe(admin, topic, VERIFY_TIMEOUT).map(d -> String.valueOf(d.topicId())).orElse(null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while reading the id of topic '" + topic + "'", e);
    } catch (TimeoutException e) {
      throw new BackendUnavailableException(
          "Kafka at " + options.bootstrapServers() + " did not answer within " + VERIFY_TIMEOUT
              + " while reading the id of topic '" + topic + "'", e);
    }
  }

  /** The error for a topic whose partition count is no longer the one a node started with. */
  static IllegalStateException partitionCountChanged(String topic, int started, int now) {
    return new IllegalStateException("topic '" + topic + "' has " + now + " partition(s), but this node started with "
        + started + ": keys map to partitions by their count, so a key's records would now go to another partition"
        + " and lose their order. A replicated cache's topic keeps its partition count; recreate the topic (and"
        + " restart the nodes) to change it");
  }

  private static Optional<TopicDescription> describe(Admin admin, String topic, Duration timeout)
      throws InterruptedException, TimeoutException {
    try {
      Map<String, TopicDescription> all =
          admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return Optional.ofNullable(all.get(topic));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw failure(topic, e);
    }
  }

  private static void create(Admin admin, String topic, ReplicationOptions options, Duration timeout)
      throws InterruptedException, TimeoutException {
    NewTopic newTopic = new NewTopic(
        topic, Optional.of(options.partitions()),
        options.replicationFactor() == -1 ? Optional.empty() : Optional.of(options.replicationFactor()));
    newTopic.configs(Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, String.valueOf(options.minCompactionLag().toMillis()),
        TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"));
    try {
      admin.createTopics(List.of(newTopic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      LOG.info("Created topic '{}' ({} partition(s), compacted, min.compaction.lag.ms={})",
          topic, options.partitions(), options.minCompactionLag().toMillis());
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw failure(topic, e);
      }
    }
  }

  /** Checks the topic's settings; returns its delete.retention.ms. */
  private static long check(Admin admin, String topic, ReplicationOptions options, Duration timeout)
      throws InterruptedException, TimeoutException {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config;
    try {
      config = admin.describeConfigs(List.of(resource)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .get(resource);
    } catch (ExecutionException e) {
      throw failure(topic, e);
    }
    String policy = value(config, TopicConfig.CLEANUP_POLICY_CONFIG, "delete");
    Set<String> policies = Set.of(policy.replace(" ", "").split(","));
    if (!policies.equals(Set.of(TopicConfig.CLEANUP_POLICY_COMPACT))) {
      throw new IllegalStateException(
          "topic '" + topic + "' has cleanup.policy=" + policy + "; a replicated cache needs cleanup.policy=compact"
              + " (delete would drop live keys; a topic created by a producer's write, with the broker's"
              + " auto.create.topics.enable, gets the broker's default). Fix it with: kafka-configs.sh --alter"
              + " --entity-type topics --entity-name " + topic + " --add-config cleanup.policy=compact");
    }
    long lag = Long.parseLong(value(config, TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0"));
    long floor = ReplicationOptions.MIN_COMPACTION_LAG_FLOOR.toMillis();
    if (lag < floor) {
      throw new IllegalStateException(
          "topic '" + topic + "' has min.compaction.lag.ms=" + lag + "; a replicated cache needs at least " + floor
              + " so that anchors land before the cleaner drops what a record depends on (docs/replication.md)."
              + " Fix it with: kafka-configs.sh --alter --entity-type topics --entity-name " + topic
              + " --add-config min.compaction.lag.ms=" + options.minCompactionLag().toMillis());
    }
    String timestampType = value(config, TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime");
    if (!"LogAppendTime".equals(timestampType)) {
      throw new IllegalStateException(
          "topic '" + topic + "' has message.timestamp.type=" + timestampType + "; a replicated cache needs"
              + " LogAppendTime: nodes forget tombstones by record time, which must come from the broker, not from"
              + " each writer's clock (a writer whose clock runs ahead would make nodes forget a delete too early)."
              + " Fix it with: kafka-configs.sh --alter --entity-type topics --entity-name " + topic
              + " --add-config message.timestamp.type=LogAppendTime");
    }
    return Long.parseLong(value(config, TopicConfig.DELETE_RETENTION_MS_CONFIG, "86400000"));
  }

  private static String value(Config config, String name, String fallback) {
    var entry = config == null ? null : config.get(name);
    return entry == null || entry.value() == null ? fallback : entry.value();
  }

  private static RuntimeException failure(String topic, ExecutionException e) {
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
      return new BackendUnavailableException("Kafka did not answer while setting up topic '" + topic + "'", cause);
    }
    return new CacheException("could not set up topic '" + topic + "': " + cause, cause);
  }
}
