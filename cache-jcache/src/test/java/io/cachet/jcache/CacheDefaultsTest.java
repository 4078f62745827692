package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.spi.CacheBackendProvider;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.configuration.OptionalFeature;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.Duration;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The default cache settings: {@code cachet.jcache.default.*}. Those of the redis backend are
 * checked by {@code RedisCacheDefaultsTest} in cache-jcache-tck, where cache-redis is on the class
 * path.
 */
final class CacheDefaultsTest {

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
    URI uri = URI.create("urn:cachet:defaults-test-" + opened.size());
    opened.add(uri);
    return provider.getCacheManager(uri, loader, properties);
  }

  private static String backendOf(Cache<?, ?> cache) {
    return cache.unwrap(io.cachet.Cache.class).config().backend();
  }

  @Test
  void defaultBackend_appliesToConfigurationsThatChooseNone() {
    CacheManager manager = open("cachet.jcache.default.backend", FakeRemoteBackend.NAME);

    Cache<String, String> plain = manager.createCache("plain", new MutableConfiguration<>());
    Cache<String, String> cachet =
        manager.createCache("cachet", new CachetConfiguration<String, String>().setOption("maximumSize", "10"));
    Cache<String, String> local =
        manager.createCache("local", new CachetConfiguration<String, String>().setBackend("local"));

    assertThat(backendOf(plain)).isEqualTo(FakeRemoteBackend.NAME);
    assertThat(plain.getConfiguration(CachetConfiguration.class).getBackend()).isEqualTo(FakeRemoteBackend.NAME);
    assertThat(backendOf(cachet)).isEqualTo(FakeRemoteBackend.NAME);
    assertThat(backendOf(local)).isEqualTo("local");
    plain.put("k", "v");
    assertThat(plain.get("k")).isEqualTo("v");
  }

  @Test
  void defaultOptions_fillInWhatTheConfigurationLeavesUnset() {
    CacheManager manager =
        open("cachet.jcache.default.maximumSize", "7", "cachet.jcache.default.expireAfterWrite", "5m");

    Cache<String, String> plain = manager.createCache("plain", new MutableConfiguration<>());
    Cache<String, String> own =
        manager.createCache(
            "own",
            new CachetConfiguration<String, String>()
                .setOption("maximumSize", "3")
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(Duration.ONE_MINUTE)));

    assertThat(plain.unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(7);
    assertThat(plain.getConfiguration(CachetConfiguration.class).getOptions()).containsEntry("expireAfterWrite", "5m");
    assertThat(own.unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(3);
    assertThat(own.getConfiguration(CachetConfiguration.class).getExpiryPolicyFactory())
        .isEqualTo(CreatedExpiryPolicy.factoryOf(Duration.ONE_MINUTE));
  }

  @Test
  void managerProperties_winOverSystemProperties() {
    Properties system = new Properties();
    system.setProperty("cachet.jcache.default.maximumSize", "1");
    system.setProperty("cachet.jcache.default.backend", FakeRemoteBackend.NAME);
    Properties manager = new Properties();
    manager.setProperty("cachet.jcache.default.maximumSize", "2");

    CachetConfiguration<Object, Object> config =
        CacheDefaults.read(manager, system, backends()).apply("c", new CachetConfiguration<>(), false);

    assertThat(config.getOptions()).containsEntry("maximumSize", "2");
    assertThat(config.getBackend()).isEqualTo(FakeRemoteBackend.NAME);
  }

  @Test
  void badDefaults_failTheManager_namingTheEntry() {
    assertThatThrownBy(() -> open("cachet.jcache.default.maximumSise", "1"))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cachet.jcache.default.maximumSise");
    assertThatThrownBy(() -> open("cachet.jcache.default.maximumSize", "-1"))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cachet.jcache.default.maximumSize");
    assertThatThrownBy(() -> open("cachet.jcache.default.backend", "nope"))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("no backend named 'nope'");
  }

  @Test
  void storeByReference_isUnsupportedWhenTheDefaultBackendIsRemote() {
    assertThat(provider.isSupported(OptionalFeature.STORE_BY_REFERENCE)).isTrue();
    System.setProperty("cachet.jcache.default.backend", "redis");
    try {
      assertThat(provider.isSupported(OptionalFeature.STORE_BY_REFERENCE)).isFalse();
    } finally {
      System.clearProperty("cachet.jcache.default.backend");
    }
  }

  private Map<String, CacheBackendProvider> backends() {
    Map<String, CacheBackendProvider> found = new LinkedHashMap<>();
    ServiceLoader.load(CacheBackendProvider.class, loader).forEach(b -> found.putIfAbsent(b.name(), b));
    return found;
  }
}
