package io.cachet.jcache.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.jcache.spi.CachetCachingProvider;
import io.cachet.redis.RedisCacheProvider;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.Test;

/**
 * With cache-redis on the class path, as its jar reaches users (this module's test class path
 * holds it unaltered), the class path registers exactly one JCache provider: Cachet's. Redisson,
 * which cache-redis uses, registers one of its own in its jar; cache-redis carries Redisson
 * relocated, without that registration.
 */
final class OneCachingProviderTest {

  @Test
  void getCachingProvider_withCacheRedisOnTheClassPath_isCachets() {
    CachingProvider provider = Caching.getCachingProvider();

    assertThat(provider).isInstanceOf(CachetCachingProvider.class);
  }

  @Test
  void serviceRegistrations_withCacheRedisOnTheClassPath_nameOnlyCachetsProvider() {
    List<String> registered = ServiceLoader.load(CachingProvider.class).stream()
        .map(provider -> provider.type().getName())
        .toList();

    assertThat(registered).containsExactly(CachetCachingProvider.class.getName());
  }

  @Test
  void cacheRedis_isThePackagedJar_withRedissonRelocatedInside() throws Exception {
    Path location = location(RedisCacheProvider.class);

    assertThat(location.getFileName().toString())
        .as("cache-redis must be its packaged jar (run this module with package or verify, not test),"
            + " was %s", location)
        .endsWith(".jar");
    Class<?> relocated = Class.forName("io.cachet.redis.internal.redisson.Redisson");
    assertThat(location(relocated)).isEqualTo(location);
    assertThatThrownBy(() -> Class.forName("org.redisson.Redisson"))
        .as("Redisson's own jar must not reach this class path through cache-redis")
        .isInstanceOf(ClassNotFoundException.class);
  }

  private static Path location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
