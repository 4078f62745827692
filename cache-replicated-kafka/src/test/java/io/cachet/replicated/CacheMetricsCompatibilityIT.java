package io.cachet.replicated;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.metrics.CacheMetrics;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinder;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinderCompatibilityKit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Micrometer's own checks of a cache binder, against a replicated cache on a real broker. */
@Tag("kafka")
final class CacheMetricsCompatibilityIT extends CacheMeterBinderCompatibilityKit<Cache<?, ?>> {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();

  private CacheManager manager;

  @Override
  public Cache<?, ?> createCache() {
    manager = CacheManager.create();
    return manager.create(CacheConfig.builder("mycache")
        .backend(ReplicatedCacheProvider.NAME)
        .executor(Runnable::run)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic("metrics-" + TOPICS.incrementAndGet())
            .build())
        .build());
  }

  @AfterEach
  void closeManager() {
    if (manager != null) {
      manager.close();
    }
  }

  /** A replica's apply thread holds it until it is closed; closed, nothing else may. */
  @Override
  public void dereferenceCache() {
    manager.close();
    manager = null;
    super.dereferenceCache();
  }

  @Override
  public CacheMeterBinder<Cache<?, ?>> binder() {
    return new CacheMetrics(cache, Tags.empty());
  }

  @Override
  @SuppressWarnings("unchecked")
  public void put(String key, String value) {
    ((Cache<String, String>) cache).put(key, value);
  }

  @Override
  @SuppressWarnings("unchecked")
  public String get(String key) {
    return ((Cache<String, String>) cache).get(key);
  }
}
