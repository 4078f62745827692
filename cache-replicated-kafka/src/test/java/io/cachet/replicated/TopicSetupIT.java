package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.management.ObjectName;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Creating a cache creates its topic, or checks that an existing one is fit for a replicated cache. */
@Tag("kafka")
final class TopicSetupIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(2);

  private static Admin admin;

  private final List<CacheManager> managers = new ArrayList<>();

  @BeforeAll
  static void createAdmin() {
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.broker().bootstrapServers()));
  }

  @AfterAll
  static void closeAdmin() {
    admin.close(Duration.ofSeconds(5));
  }

  @AfterEach
  void closeManagers() {
    managers.forEach(CacheManager::close);
  }

  @Test
  void create_missingTopic_createsItCompactedWithTheConfiguredSettings() throws Exception {
    String topic = newTopicName();

    Cache<String, String> cache = newManager().create(config(topic, "a", ReplicationOptions.builder()
        .partitions(4)
        .minCompactionLag(Duration.ofMinutes(7))));

    assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions())
        .hasSize(4);
    Config config = topicConfig(topic);
    assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
    assertThat(config.get("min.compaction.lag.ms").value()).isEqualTo(String.valueOf(Duration.ofMinutes(7).toMillis()));
    assertThat(config.get("message.timestamp.type").value()).isEqualTo("LogAppendTime");
    cache.put("k", "v");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void create_missingTopicRepeatedly_createsAndUsesEachOne() {
    // Right after CreateTopics the broker may not describe the new topic yet; creating the cache
    // must wait for it rather than fail.
    CacheManager manager = newManager();
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String topic = newTopicName();
      try {
        Cache<String, String> cache = manager.create(config(topic, "a", ReplicationOptions.builder()));
        cache.put("k", "v");
        cache.close();
      } catch (RuntimeException e) {
        failures.add(topic + ": " + e);
      }
    }

    assertThat(failures).isEmpty();
  }

  @Test
  void create_existingTopicWithDeletePolicy_throwsIllegalStateAndWritesNothing() throws Exception {
    String topic = newTopicName();
    createTopic(topic, 1, Map.of("cleanup.policy", "delete"));
    CacheManager manager = newManager();

    Throwable thrown = catchThrowable(() -> manager.create(config(topic, "a", ReplicationOptions.builder())));

    assertThat(thrown)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'" + topic + "'")
        .hasMessageContaining("cleanup.policy=delete");
    assertThat(manager.cacheNames()).isEmpty();
    assertThat(endOffsets(topic, 1)).containsOnly(0L);
    assertThat(topicConfig(topic).get("cleanup.policy").value()).as("the topic is left as it was").isEqualTo("delete");
  }

  @Test
  void create_existingTopicWithCompactAndDeletePolicy_throwsIllegalState() throws Exception {
    String topic = newTopicName();
    createTopic(topic, 1, Map.of("cleanup.policy", "compact,delete", "min.compaction.lag.ms", "3600000"));

    Throwable thrown = catchThrowable(() -> newManager().create(config(topic, "a", ReplicationOptions.builder())));

    assertThat(thrown)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'" + topic + "'")
        .hasMessageContaining("cleanup.policy=compact,delete");
    assertThat(endOffsets(topic, 1)).containsOnly(0L);
  }

  @Test
  void create_existingCompactedTopicWithoutCompactionLag_throwsIllegalStateAndWritesNothing() throws Exception {
    String topic = newTopicName();
    createTopic(topic, 1, Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "0"));
    CacheManager manager = newManager();

    Throwable thrown = catchThrowable(() -> manager.create(config(topic, "a", ReplicationOptions.builder())));

    assertThat(thrown)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'" + topic + "'")
        .hasMessageContaining("min.compaction.lag.ms=0");
    assertThat(manager.cacheNames()).isEmpty();
    assertThat(endOffsets(topic, 1)).containsOnly(0L);
  }

  @Test
  void create_existingTopicWithWritersTimestamps_throwsIllegalStateAndWritesNothing() throws Exception {
    String topic = newTopicName();
    createTopic(topic, 1, Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "3600000",
        "message.timestamp.type", "CreateTime"));
    CacheManager manager = newManager();

    Throwable thrown = catchThrowable(() -> manager.create(config(topic, "a", ReplicationOptions.builder())));

    assertThat(thrown)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'" + topic + "'")
        .hasMessageContaining("message.timestamp.type=CreateTime")
        .hasMessageContaining("--add-config message.timestamp.type=LogAppendTime");
    assertThat(manager.cacheNames()).isEmpty();
    assertThat(endOffsets(topic, 1)).containsOnly(0L);
  }

  @Test
  void create_existingTopicWithOtherPartitionCount_usesItsPartitionsOnEveryNode() throws Exception {
    String topic = newTopicName();
    createTopic(topic, 3, Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "3600000",
        "message.timestamp.type", "LogAppendTime"));
    Cache<String, String> a = newManager().create(config(topic, "a", ReplicationOptions.builder().partitions(1)));
    Cache<String, String> b = newManager().create(config(topic, "b", ReplicationOptions.builder().partitions(5)));
    Map<String, String> written = new HashMap<>();

    for (int i = 0; i < 30; i++) {
      Cache<String, String> writer = i % 2 == 0 ? a : b;
      writer.put("key-" + i, "value-" + i);
      written.put("key-" + i, "value-" + i);
    }

    assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions())
        .as("the topic keeps its own partitions")
        .hasSize(3);
    assertThat(endOffsets(topic, 3)).as("records spread over every partition").allMatch(offset -> offset > 0);
    assertThat(endOffsets(topic, 3).stream().mapToLong(Long::longValue).sum()).isEqualTo(30);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(a.getAll(written.keySet())).isEqualTo(written);
      assertThat(b.getAll(written.keySet())).isEqualTo(written);
    });
    // A third node replays all three partitions.
    Cache<String, String> c = newManager().create(config(topic, "c", ReplicationOptions.builder()));
    assertThat(c.unwrap(ReplicatedCache.class).isReady()).isTrue();
    assertThat(c.getAll(written.keySet())).isEqualTo(written);
  }

  @Test
  void create_unreachableBootstrapServers_throwsBackendUnavailableInBoundedTime() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = socket.getLocalPort();
    }
    CacheManager manager = newManager();
    CacheConfig config = CacheConfig.builder("unreachable")
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers("127.0.0.1:" + port)
            .writeTimeout(WRITE_TIMEOUT)
            .build())
        .build();

    long started = System.nanoTime();
    Throwable thrown = catchThrowable(() -> manager.create(config));
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(thrown)
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("cachet-unreachable");
    assertThat(thrown.getCause()).isNotNull();
    // Topic setup waits writeTimeout + 5 s at most; the rest is slack for a loaded machine.
    assertThat(took).isLessThan(WRITE_TIMEOUT.plusSeconds(15));
    assertThat(manager.cacheNames()).isEmpty();
  }

  @Test
  void create_whenTheFetchThreadCannotStart_failsAndClosesTheConsumer() throws Exception {
    String topic = newTopicName();
    Cache<String, String> writer = newManager().create(config(topic, "w", ReplicationOptions.builder()));
    writer.put("k", "v"); // a record to replay: the node cannot be ready before its fetch thread runs
    Threads.beforeStartForTest = thread -> {
      if (thread.getName().equals("cachet-fetch-" + topic)) {
        throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits");
      }
    };
    try {
      assertThatThrownBy(() -> newManager().create(config(topic, "a", ReplicationOptions.builder())))
          .isInstanceOf(CacheException.class)
          .hasMessageContaining("could not start")
          .hasRootCauseInstanceOf(OutOfMemoryError.class);
    } finally {
      Threads.beforeStartForTest = null;
    }
    // Until the fetch thread runs, the consumer is the apply thread's; closing it removes its MBeans.
    assertThat(ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("kafka.consumer:*"), null))
        .noneMatch(mbean -> mbean.toString().contains(topic + "-a-consumer"));
  }

  private CacheManager newManager() {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager;
  }

  private static String newTopicName() {
    return "topic-setup-" + TOPICS.incrementAndGet();
  }

  private static CacheConfig config(String topic, String nodeId, ReplicationOptions.Builder options) {
    return CacheConfig.builder(topic)
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(options
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic(topic)
            .nodeId(nodeId)
            .writeTimeout(WRITE_TIMEOUT)
            .build())
        .build();
  }

  private static void createTopic(String topic, int partitions, Map<String, String> configs) throws Exception {
    admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty()).configs(configs)))
        .all()
        .get(30, TimeUnit.SECONDS);
  }

  private static Config topicConfig(String topic) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
  }

  private static List<Long> endOffsets(String topic, int partitions) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    var result = admin.listOffsets(request).all().get(30, TimeUnit.SECONDS);
    return IntStream.range(0, partitions)
        .mapToObj(p -> result.get(new TopicPartition(topic, p)).offset())
        .toList();
  }
}
