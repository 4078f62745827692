package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.redis.RedisOptions;
import io.cachet.spi.CacheBackendProvider;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The default cache settings of the redis backend: {@code cachet.jcache.default.redis.*}. It lives
 * here, in the package of {@link CacheDefaults}, because this module has cache-redis on its class
 * path; {@code CacheDefaultsTest} in cache-jcache checks the rest. No Redis server is needed.
 */
final class RedisCacheDefaultsTest {

  private final CachingProvider provider = Caching.getCachingProvider();
  private final ClassLoader loader = getClass().getClassLoader();
  private final List<URI> opened = new ArrayList<>();

  @AfterEach
  void closeManagers() {
    opened.forEach(uri -> provider.close(uri, loader));
  }

  private CacheManager open(String... settings) {
    Properties properties = new Properties();
    for (int i = 0; i < settings.length; i += 2) {
      properties.setProperty(settings[i], settings[i + 1]);
    }
    URI uri = URI.create("urn:cachet:redis-defaults-test-" + opened.size());
    opened.add(uri);
    return provider.getCacheManager(uri, loader, properties);
  }

  @Test
  void backendOptions_applyToCachesOfThatBackend_withTheCacheNameInValues() {
    Properties settings = new Properties();
    settings.setProperty("cachet.jcache.default.redis.keyPrefix", "app:{cache}:");
    settings.setProperty("cachet.jcache.default.redis.address", "10.0.0.5:6380");
    CacheDefaults defaults = CacheDefaults.read(settings, new Properties(), backends());

    CachetConfiguration<Object, Object> redis =
        defaults.apply("orders", new CachetConfiguration<>().setBackend("redis"), true);
    CachetConfiguration<Object, Object> local = defaults.apply("orders", new CachetConfiguration<>(), false);
    CachetConfiguration<Object, Object> own =
        defaults.apply(
            "orders",
            new CachetConfiguration<>()
                .setBackend("redis")
                .addBackendOptions(RedisOptions.builder().keyPrefix("mine:").build()),
            true);

    assertThat(redis.getBackendOptions()).singleElement().isInstanceOfSatisfying(RedisOptions.class, o -> {
      assertThat(o.keyPrefix()).isEqualTo("app:orders:");
      assertThat(o.address()).isEqualTo("redis://10.0.0.5:6380");
    });
    assertThat(local.getBackend()).isEqualTo("local");
    assertThat(local.getBackendOptions()).isEmpty();
    assertThat(own.getBackendOptions())
        .singleElement()
        .isInstanceOfSatisfying(RedisOptions.class, o -> assertThat(o.keyPrefix()).isEqualTo("mine:"));
  }

  @Test
  void badDefaults_unknownRedisOption_failsTheManager_namingTheEntry() {
    assertThatThrownBy(() -> open("cachet.jcache.default.redis.adress", "x:1"))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cachet.jcache.default.redis")
        .hasMessageContaining("adress");
  }

  private Map<String, CacheBackendProvider> backends() {
    Map<String, CacheBackendProvider> found = new LinkedHashMap<>();
    ServiceLoader.load(CacheBackendProvider.class, loader).forEach(b -> found.putIfAbsent(b.name(), b));
    return found;
  }
}
