package io.cachet.local;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.testkit.AbstractLruScenarioTest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

final class LruScenarioTest extends AbstractLruScenarioTest {

  private final Map<String, String> source = new ConcurrentHashMap<>();

  @Override
  protected Cache<String, String> createLruCache(int capacity) {
    return LocalCacheProvider.createStandalone(
        CacheConfig.builder("lru-scenario")
            .evictionPolicy(EvictionPolicy.LRU)
            .maximumSize(capacity)
            .executor(Runnable::run)
            .build());
  }

  @Override
  protected void writeToSource(String key, String value) {
    source.put(key, value);
  }

  @Override
  protected String readThrough(Cache<String, String> cache, String key) {
    return cache.get(key, source::get);
  }
}
