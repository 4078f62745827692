package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.testkit.AbstractCacheContractTest;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract on one node against a real broker; each cache gets a topic of its own. */
@Tag("kafka")
final class ReplicatedCacheContractIT extends AbstractCacheContractTest {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();

  @Override
  protected void configure(CacheConfig.Builder<String, String> builder) {
    builder
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic("contract-" + TOPICS.incrementAndGet())
            .nodeId("contract")
            .build());
  }

  @Override
  protected Cache<String, String> newCache(Consumer<CacheConfig.Builder<String, String>> options) {
    Cache<String, String> cache = super.newCache(options);
    try {
      assertThat(cache.unwrap(ReplicatedCache.class).awaitReady(Duration.ofSeconds(30))).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return cache;
  }
}
