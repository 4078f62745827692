package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheNotReadyException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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

  private static ReplicatedKafkaCache<String, String> unconnected(String name) {
    CacheConfig<String, String> config = CacheConfig.builder(name).backend(ReplicatedCacheProvider.NAME).build();
    ReplicationOptions options = ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").build();
    return new ReplicatedKafkaCache<>(config, options,
        FakeAdmin.of(new AtomicInteger(), UnsupportedOperationException::new),
        new TopicSetup.TopicInfo(1, 86_400_000L, "id"), c -> { });
  }
}
