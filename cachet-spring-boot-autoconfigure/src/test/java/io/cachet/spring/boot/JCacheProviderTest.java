package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.jcache.spi.CachetCachingProvider;
import io.cachet.redis.RedisCacheProvider;
import io.cachet.spi.CacheBackendProvider;
import java.util.ServiceLoader;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.cache.autoconfigure.CacheAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.cache.jcache.JCacheCacheManager;
import org.springframework.context.annotation.Configuration;

/**
 * Spring Boot's own JCache support ({@code spring.cache.type=jcache}, no provider named) with
 * cache-redis and cache-jcache on the class path: Boot looks the provider up with
 * {@code Caching.getCachingProvider()}, which finds exactly one, Cachet's, because cache-redis
 * carries Redisson without Redisson's JCache provider.
 */
final class JCacheProviderTest {

  @Configuration(proxyBeanMethods = false)
  @EnableCaching
  static class Caching {}

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(CacheAutoConfiguration.class))
      .withUserConfiguration(Caching.class);

  @Test
  void springCacheTypeJCache_withCacheRedisOnTheClassPath_usesCachetsProvider() {
    assertThat(ServiceLoader.load(CacheBackendProvider.class).stream().map(ServiceLoader.Provider::type))
        .as("cache-redis's backend is registered on the class path")
        .contains(RedisCacheProvider.class);
    assertThat(ServiceLoader.load(CachingProvider.class).stream().map(ServiceLoader.Provider::type))
        .as("the JCache providers registered on the class path")
        .containsExactly(CachetCachingProvider.class);

    runner.withPropertyValues("spring.cache.type=jcache", "spring.cache.cache-names=books").run(context -> {
      assertThat(context).hasNotFailed();
      JCacheCacheManager manager = context.getBean(JCacheCacheManager.class);
      assertThat(manager.getCacheManager().getCachingProvider()).isInstanceOf(CachetCachingProvider.class);
      assertThat(manager.getCacheNames()).containsExactly("books");
      manager.getCache("books").put("1", "Dune");
      assertThat(manager.getCache("books").get("1", String.class)).isEqualTo("Dune");
    });
  }
}
