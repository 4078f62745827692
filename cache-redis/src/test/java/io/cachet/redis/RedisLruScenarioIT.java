package io.cachet.redis;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import io.cachet.testkit.AbstractLruScenarioTest;
import io.cachet.testkit.redis.RedisServerExtension;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Redis proxy's LRU scenarios: an exact-LRU near cache of 10 keys in front of Redis, with
 * expiry-only coherence (so a change in Redis shows only once the key was evicted).
 */
@Tag("redis")
final class RedisLruScenarioIT extends AbstractLruScenarioTest {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private final String prefix = "lru-" + UUID.randomUUID() + ":";
  private CacheManager manager;

  @Override
  protected Cache<String, String> createLruCache(int capacity) {
    manager = CacheManager.create();
    return manager.create(
        CacheConfig.builder("lru-scenario")
            .backend("redis")
            .evictionPolicy(EvictionPolicy.LRU)
            .maximumSize(capacity)
            .backendOptions(
                RedisOptions.builder()
                    .address(REDIS.server().uri())
                    .keyPrefix(prefix)
                    .coherence(Coherence.EXPIRY)
                    .build())
            .build());
  }

  @Override
  protected void writeToSource(String key, String value) {
    REDIS.server().command("SET", prefix + key, value);
  }

  @Override
  protected String readThrough(Cache<String, String> cache, String key) {
    return cache.get(key);
  }

  @Override
  protected void release(Cache<String, String> cache) {
    manager.close();
  }
}
