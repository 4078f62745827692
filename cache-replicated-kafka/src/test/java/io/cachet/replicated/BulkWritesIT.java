package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code putAll} and {@code clear} over more keys than the send queue holds: each write of a bulk
 * operation waits for room instead of failing on a full queue, so neither loses or leaves keys.
 */
@Tag("kafka")
final class BulkWritesIT {

  private static final Logger LOG = LoggerFactory.getLogger(BulkWritesIT.class);

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  @Test
  void putAllAndClear_ofMoreKeysThanTheSendQueueHolds_writeEveryKey() {
    // Twice the queue, and a producer with a small buffer, which takes records no faster than the
    // broker acknowledges them: queued all at once, the writes of a bulk operation outran the send
    // thread and those past the queue's bound failed ("100000 records waiting to be sent").
    int keys = 2 * Sender.MAX_QUEUED_RECORDS;
    Map<String, String> entries = new HashMap<>();
    for (int i = 0; i < keys; i++) {
      entries.put("k" + i, "v" + i);
    }
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.<String, String>builder("bulk")
          .backend(ReplicatedCacheProvider.NAME)
          .maximumSize(keys)
          .backendOptions(ReplicationOptions.builder()
              .bootstrapServers(KAFKA.broker().bootstrapServers())
              .topic("bulk-writes")
              .kafkaProperty("buffer.memory", "65536")
              .build())
          .build());
      long started = System.nanoTime();
      cache.putAll(entries);
      long put = System.nanoTime();
      assertThat(cache.estimatedSize()).isEqualTo(keys);
      assertThat(cache.get("k0")).isEqualTo("v0");
      assertThat(cache.get("k" + (keys - 1))).isEqualTo("v" + (keys - 1));

      cache.clear();
      LOG.info("putAll of {} keys: {} ms; clear: {} ms", keys, (put - started) / 1_000_000,
          (System.nanoTime() - put) / 1_000_000);
      assertThat(cache.estimatedSize()).isZero();
      assertThat(cache.get("k0")).isNull();
    }
  }
}
