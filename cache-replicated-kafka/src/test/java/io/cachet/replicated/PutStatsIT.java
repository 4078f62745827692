package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A put is counted once, when its record applied: never for a put that failed or decided "no". */
@Tag("kafka")
final class PutStatsIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  @Test
  void puts_countedOnlyWhenApplied() {
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("put-stats")
          .backend(ReplicatedCacheProvider.NAME)
          .maximumSize(1)
          .recordStats(true)
          .backendOptions(ReplicationOptions.builder()
              .bootstrapServers(KAFKA.broker().bootstrapServers())
              .topic("put-stats")
              .build())
          .build());

      cache.put("a", "1");
      assertThatThrownBy(() -> cache.put("b", "2")).isInstanceOf(ReplicaFullException.class);
      assertThat(cache.putIfAbsent("a", "other")).isFalse();
      assertThatThrownBy(() -> cache.putIfAbsent("b", "2")).isInstanceOf(ReplicaFullException.class);
      cache.put("a", "3");

      assertThat(cache.stats().putCount()).as("the two puts of 'a' that applied").isEqualTo(2);
    }
  }
}
