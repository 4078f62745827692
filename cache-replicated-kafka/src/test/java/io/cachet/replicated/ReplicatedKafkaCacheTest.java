package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheNotReadyException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The cache's own checks, on a cache whose Kafka clients reach no broker (nothing listens on
 * port 1): it never becomes ready, and closes at once.
 */
final class ReplicatedKafkaCacheTest {

  @Test
  void putAll_emptyMap_throwsUnlessTheCacheTakesWrites() {
    ReplicatedKafkaCache<String, String> cache = unconnected("put-all");
    try {
      assertThatThrownBy(() -> cache.putAll(Map.of())).isInstanceOf(CacheNotReadyException.class);
    } finally {
      cache.close();
    }
    assertThatThrownBy(() -> cache.putAll(Map.of())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void anApplyThreadThatCannotStart_failsTheCreation_andLeavesNoThreadOrClientBehind() throws Exception {
    String name = "no-native-thread";
    Threads.beforeStartForTest = thread -> {
      if (thread.getName().equals("cachet-replica-" + name)) {
        throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits");
      }
    };
    try {
      assertThatThrownBy(() -> unconnected(name)).isInstanceOf(OutOfMemoryError.class);
    } finally {
      Threads.beforeStartForTest = null;
    }
    // The send thread had started; the producer runs a network thread of its own.
    List<String> running = Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive).map(Thread::getName).filter(n -> n.contains(name)).toList();
    assertThat(running).as("threads of the cache that failed to start").isEmpty();
    assertThat(ManagementFactory.getPlatformMBeanServer()
        .queryNames(new ObjectName("kafka.*:*"), null))
        .as("the Kafka clients' MBeans, which closing them removes")
        .noneMatch(mbean -> mbean.toString().contains(name));
  }

  private static ReplicatedKafkaCache<String, String> unconnected(String name) {
    CacheConfig<String, String> config = CacheConfig.builder(name).backend(ReplicatedCacheProvider.NAME).build();
    ReplicationOptions options = ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").build();
    return new ReplicatedKafkaCache<>(config, options,
        FakeAdmin.of(new AtomicInteger(), UnsupportedOperationException::new),
        new TopicSetup.TopicInfo(1, 86_400_000L, "id"), c -> { });
  }
}
