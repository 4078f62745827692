package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class ReplicationOptionsTest {

  @Test
  void defaults() {
    ReplicationOptions o = ReplicationOptions.defaults();
    assertThat(o.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(o.topicFor("orders")).isEqualTo("cachet-orders");
    assertThat(o.partitions()).isEqualTo(1);
    assertThat(o.replicationFactor()).isEqualTo((short) -1);
    assertThat(o.minCompactionLag()).isEqualTo(Duration.ofHours(1));
    assertThat(o.nodeId()).startsWith("node-");
    assertThat(o.writeTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.readLatest()).isFalse();
    assertThat(o.startupWait()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.snapshotPath()).isEmpty();
  }

  @Test
  void defaultTopicFor_anyCacheName_isALegalDistinctDeterministicTopic() {
    List<String> names = List.of("orders", "user_sessions", "a-b", "new cache", "a.b", "a_b",
        "org.jsr107.tck.CacheManagerTest@5e1a5f", "café", "\uD83D\uDE00", "x".repeat(242), "x".repeat(243),
        "y".repeat(10_000), "y".repeat(10_001), ".", "..", "-", "_",
        // Plain-looking names shaped like the hashed form are hashed too, so the forms never meet.
        "cachet-new_cache--" + "0".repeat(32), "new_cache--" + "0".repeat(32));
    Set<String> topics = new HashSet<>();
    Set<String> kafkaCollisionKeys = new HashSet<>();
    for (String name : names) {
      String topic = ReplicationOptions.defaultTopicFor(name);
      assertThat(topic).as(name).matches("cachet-[a-zA-Z0-9_-]+").hasSizeLessThanOrEqualTo(249);
      assertThat(ReplicationOptions.defaultTopicFor(name)).as("deterministic").isEqualTo(topic);
      assertThat(topics.add(topic)).as("distinct topic for %s", name).isTrue();
      // Kafka refuses a topic equal to an existing one with '.' and '_' swapped.
      assertThat(kafkaCollisionKeys.add(topic.replace('.', '_'))).as(name).isTrue();
    }
    assertThat(ReplicationOptions.defaultTopicFor("orders")).isEqualTo("cachet-orders");
    assertThat(ReplicationOptions.defaultTopicFor("x".repeat(242))).isEqualTo("cachet-" + "x".repeat(242));
    assertThat(ReplicationOptions.defaultTopicFor("new cache")).matches("cachet-new_cache--[0-9a-f]{32}");
    assertThat(ReplicationOptions.defaultTopicFor("a.b")).matches("cachet-a_b--[0-9a-f]{32}");
    // The hash is of the UTF-8 name, documented so that other tools can compute it.
    assertThat(ReplicationOptions.defaultTopicFor("new cache")).isEqualTo("cachet-new_cache--"
        + sha256("new cache").substring(0, 32));
  }

  @Test
  void topicFor_configuredTopic_overridesTheMapping() {
    ReplicationOptions o = ReplicationOptions.builder().topic("orders_v1").build();
    assertThat(o.topicFor("new cache")).isEqualTo("orders_v1");
  }

  private static String sha256(String s) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void parse_textForms() {
    ReplicationOptions o = ReplicationOptions.parse(Map.ofEntries(
        Map.entry("bootstrapServers", "k1:9092,k2:9093"),
        Map.entry("topic", "orders.v1"),
        Map.entry("partitions", "6"),
        Map.entry("replicationFactor", "3"),
        Map.entry("minCompactionLag", "2h"),
        Map.entry("nodeId", "web-1"),
        Map.entry("writeTimeout", "5s"),
        Map.entry("readLatest", "TRUE"),
        Map.entry("startupWait", "0s"),
        Map.entry("snapshotPath", "/var/lib/cachet/orders.snap"),
        Map.entry("snapshotInterval", "30s"),
        Map.entry("kafka.security.protocol", "SSL")));
    assertThat(o.bootstrapServers()).isEqualTo("k1:9092,k2:9093");
    assertThat(o.topicFor("ignored")).isEqualTo("orders.v1");
    assertThat(o.partitions()).isEqualTo(6);
    assertThat(o.replicationFactor()).isEqualTo((short) 3);
    assertThat(o.minCompactionLag()).isEqualTo(Duration.ofHours(2));
    assertThat(o.nodeId()).isEqualTo("web-1");
    assertThat(o.writeTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.readLatest()).isTrue();
    assertThat(o.startupWait()).isZero();
    assertThat(o.snapshotPath()).contains(Path.of("/var/lib/cachet/orders.snap"));
    assertThat(o.snapshotInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.kafkaProperties()).containsEntry("security.protocol", "SSL");
  }

  @Test
  void invalidValues_rejectedNamingOptionAndValue() {
    assertThatThrownBy(() -> ReplicationOptions.builder().bootstrapServers("localhost"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bootstrapServers").hasMessageContaining("localhost");
    assertThatThrownBy(() -> ReplicationOptions.builder().bootstrapServers("h:99999"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("h:99999");
    assertThatThrownBy(() -> ReplicationOptions.builder().topic("bad topic"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'bad topic'");
    assertThatThrownBy(() -> ReplicationOptions.builder().partitions(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partitions must be >= 1, was 0");
    assertThatThrownBy(() -> ReplicationOptions.builder().replicationFactor((short) 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replicationFactor");
    assertThatThrownBy(() -> ReplicationOptions.builder().minCompactionLag(Duration.ofSeconds(10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minCompactionLag must be >= PT5M");
    assertThatThrownBy(() -> ReplicationOptions.builder().nodeId("a b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nodeId");
    assertThatThrownBy(() -> ReplicationOptions.builder().writeTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("writeTimeout must be > 0");
    assertThatThrownBy(() -> ReplicationOptions.builder().writeTimeout(Duration.ofMinutes(3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<= PT2M");
    assertThatThrownBy(() -> ReplicationOptions.builder().startupWait(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("startupWait");
    assertThatThrownBy(() -> ReplicationOptions.builder().snapshotInterval(Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("snapshotInterval");
  }

  @Test
  void kafkaProperties_thatTheBackendReliesOn_cannotBeOverridden() {
    assertThatThrownBy(() -> ReplicationOptions.builder().kafkaProperty("acks", "1"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kafka.acks");
    assertThatThrownBy(() -> ReplicationOptions.parse(Map.of("kafka.enable.idempotence", "false")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kafka.enable.idempotence");
  }

  @Test
  void parse_unknownOrInvalid_namesIt() {
    assertThatThrownBy(() -> ReplicationOptions.parse(Map.of("bootstrapServer", "h:1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown replicated-kafka option 'bootstrapServer'")
        .hasMessageContaining("bootstrapServers");
    assertThatThrownBy(() -> ReplicationOptions.parse(Map.of("partitions", "many")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partitions must be a whole number, was 'many'");
    assertThatThrownBy(() -> ReplicationOptions.parse(Map.of("readLatest", "yes")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("readLatest must be true or false");
  }

  @Test
  void propertiesFile_optionsReachTheBackend() {
    Properties p = new Properties();
    p.setProperty("cache.sessions.backend", "replicated-kafka");
    p.setProperty("cache.sessions.replicated-kafka.bootstrapServers", "h:1");
    p.setProperty("cache.sessions.replicated-kafka.topc", "typo");
    assertThatThrownBy(() -> CacheManager.fromProperties(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache.sessions.replicated-kafka")
        .hasMessageContaining("unknown replicated-kafka option 'topc'");
  }
}
