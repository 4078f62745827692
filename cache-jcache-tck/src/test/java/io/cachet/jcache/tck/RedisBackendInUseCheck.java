package io.cachet.jcache.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.testkit.redis.RedisServer;
import java.net.URI;
import java.util.List;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.Test;

/**
 * Runs only in the {@code tck-redis} execution (its name does not end in {@code Test}; that
 * execution includes it by name): checks that the TCK there really runs on Redis, i.e. that a cache
 * created from a plain JCache configuration lives in the Redis server {@link RedisTckSession}
 * started, under its own key prefix.
 */
final class RedisBackendInUseCheck {

  @Test
  void plainJCacheConfiguration_getsTheRedisBackend_withAKeyPrefixPerCache() {
    RedisServer server = RedisTckSession.server();
    assertThat(server).as("RedisTckSession started a server").isNotNull();
    CachingProvider provider = Caching.getCachingProvider();
    assertThat(provider.isSupported(OptionalFeature.STORE_BY_REFERENCE)).isFalse();
    CacheManager manager =
        provider.getCacheManager(URI.create("urn:cachet:tck-redis-check"), getClass().getClassLoader());
    try {
      Cache<String, String> cache =
          manager.createCache("redis-check", new MutableConfiguration<String, String>().setTypes(String.class, String.class));
      cache.put("k", "v");

      assertThat(cache.unwrap(io.cachet.Cache.class).config().backend()).isEqualTo("redis");
      assertThat((List<?>) server.command("KEYS", "tck:redis-check:*")).hasSize(1);
      assertThat(cache.get("k")).isEqualTo("v");

      manager.destroyCache("redis-check");
      assertThat((List<?>) server.command("KEYS", "tck:redis-check:*")).isEmpty();
    } finally {
      manager.close();
    }
  }
}
