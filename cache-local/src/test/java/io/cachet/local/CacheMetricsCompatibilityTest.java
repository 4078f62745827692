package io.cachet.local;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.metrics.CacheMetrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinder;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinderCompatibilityKit;
import org.junit.jupiter.api.Nested;

/** Micrometer's own checks of a cache binder, against both local policies. */
final class CacheMetricsCompatibilityTest {

  abstract static class Kit extends CacheMeterBinderCompatibilityKit<Cache<?, ?>> {

    abstract EvictionPolicy policy();

    @Override
    public Cache<?, ?> createCache() {
      // Standalone, not in a manager: the kit checks that the binder lets the cache be collected.
      return LocalCacheProvider.createStandalone(
          CacheConfig.builder("mycache").evictionPolicy(policy()).executor(Runnable::run).build());
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

  @Nested
  class TinyLfu extends Kit {
    @Override
    EvictionPolicy policy() {
      return EvictionPolicy.TINY_LFU;
    }
  }

  @Nested
  class Lru extends Kit {
    @Override
    EvictionPolicy policy() {
      return EvictionPolicy.LRU;
    }
  }
}
