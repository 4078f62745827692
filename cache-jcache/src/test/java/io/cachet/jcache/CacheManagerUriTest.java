package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.EvictionPolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.ModifiedExpiryPolicy;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cache manager URIs that name a configuration file, and the errors bad files get. */
final class CacheManagerUriTest {

  private final CachingProvider provider = Caching.getCachingProvider();
  private final ClassLoader loader = getClass().getClassLoader();
  @TempDir Path dir;

  private final java.util.List<URI> opened = new java.util.ArrayList<>();

  @AfterEach
  void closeManagers() {
    // Only ours: the TCK's tests share the default manager of this class loader.
    opened.forEach(uri -> provider.close(uri, loader));
  }

  private CacheManager open(URI uri) {
    opened.add(uri);
    return provider.getCacheManager(uri, loader);
  }

  @Test
  void getCacheManager_classpathFile_declaresCachesWithTheirOptions() {
    CacheManager manager = open(URI.create("classpath:cachet-jcache-test.properties"));

    assertThat(manager.getCacheNames()).containsExactlyInAnyOrder("users", "sessions");
    Cache<String, String> users = manager.getCache("users", String.class, String.class);
    io.cachet.Cache<?, ?> backing = users.unwrap(io.cachet.Cache.class);
    assertThat(backing.config().maximumSize()).isEqualTo(100);
    assertThat(backing.config().evictionPolicy()).isEqualTo(EvictionPolicy.LRU);
    CachetConfiguration<?, ?> config = users.getConfiguration(CachetConfiguration.class);
    assertThat(config.isStatisticsEnabled()).isTrue();
    assertThat(config.getExpiryPolicyFactory().create()).isInstanceOf(ModifiedExpiryPolicy.class);
    assertThat(config.getOptions()).containsEntry("expireAfterWrite", "5m");
  }

  @Test
  void createCache_declaredName_takesTheFilesCachetOptions() {
    CacheManager manager = open(URI.create("classpath:cachet-jcache-test.properties"));

    Cache<String, Long> sessions =
        manager.createCache("sessions", new MutableConfiguration<String, Long>().setTypes(String.class, Long.class));

    assertThat(sessions.unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(10);
    assertThat(sessions.getConfiguration(CachetConfiguration.class).getKeyType()).isEqualTo(String.class);
  }

  @Test
  void createCache_declaredName_afterTheCacheWasClosedOrDestroyed_stillTakesTheFilesCachetOptions() {
    CacheManager manager = open(URI.create("classpath:cachet-jcache-test.properties"));
    MutableConfiguration<String, Long> config =
        new MutableConfiguration<String, Long>().setTypes(String.class, Long.class);

    manager.getCache("sessions").close(); // created from the file, then closed
    Cache<String, Long> recreated = manager.createCache("sessions", config);
    assertThat(recreated.unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(10);

    manager.destroyCache("sessions");
    assertThat(manager.getCache("sessions")).as("a destroyed cache is gone until created again").isNull();
    Cache<String, Long> afterDestroy = manager.createCache("sessions", config);
    assertThat(afterDestroy.unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(10);
  }

  @Test
  void getCacheManager_fileUri_readsTheFile() throws IOException {
    Path file = dir.resolve("caches.properties");
    Files.writeString(file, "cache.orders.maximumSize=5\n");

    CacheManager manager = open(file.toUri());

    assertThat(manager.getCache("orders").unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(5);
  }

  @Test
  void getCacheManager_missingClasspathFile_throwsCacheExceptionNamingIt() {
    assertThatThrownBy(() -> open(URI.create("classpath:no-such-caches.properties")))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("classpath:no-such-caches.properties")
        .hasMessageContaining("not found");
  }

  @Test
  void getCacheManager_missingFile_throwsCacheExceptionNamingIt() {
    URI missing = dir.resolve("missing.properties").toUri();

    assertThatThrownBy(() -> open(missing))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining(missing.toString());
  }

  @Test
  void getCacheManager_unknownOption_throwsCacheExceptionNamingIt() throws IOException {
    Path file = dir.resolve("typo.properties");
    Files.writeString(file, "cache.users.maximumSise=5\n");

    assertThatThrownBy(() -> open(file.toUri()))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cache.users.maximumSise")
        .hasMessageContaining(file.toUri().toString());
  }

  @Test
  void getCacheManager_unknownJCacheOption_throwsCacheExceptionNamingIt() throws IOException {
    Path file = dir.resolve("jcache-typo.properties");
    Files.writeString(file, "cache.users.jcache.readThru=true\n");

    assertThatThrownBy(() -> open(file.toUri()))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cache.users.jcache.readThru");
  }

  @Test
  void getCacheManager_invalidValue_throwsCacheExceptionNamingTheOption() throws IOException {
    Path file = dir.resolve("negative.properties");
    Files.writeString(file, "cache.users.maximumSize=-1\n");

    assertThatThrownBy(() -> open(file.toUri()))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cache.users.maximumSize")
        .hasMessageContaining("maximumSize must be >= 0, was -1");
  }

  @Test
  void getCacheManager_unknownKeyType_throwsCacheExceptionNamingIt() throws IOException {
    Path file = dir.resolve("type.properties");
    Files.writeString(file, "cache.users.jcache.keyType=com.example.Nope\n");

    assertThatThrownBy(() -> open(file.toUri()))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("cache.users.jcache.keyType")
        .hasMessageContaining("com.example.Nope");
  }

  @Test
  void getCacheManager_propertiesArgument_declaresCaches() {
    Properties properties = new Properties();
    properties.setProperty("cache.inline.maximumSize", "7");
    properties.setProperty("unrelated.setting", "ignored");

    URI uri = URI.create("urn:cachet:test:inline");
    opened.add(uri);
    CacheManager manager = provider.getCacheManager(uri, loader, properties);

    assertThat(manager.getCache("inline").unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(7);
    assertThat(manager.getProperties()).containsEntry("unrelated.setting", "ignored");
  }

  @Test
  void getCacheManager_propertiesArgumentWithAValueThatIsNotAString_throwsCacheExceptionNamingIt() {
    Properties properties = new Properties();
    properties.put("cache.inline.maximumSize", 7); // put, not setProperty: an Integer
    URI uri = URI.create("urn:cachet:test:not-a-string");
    opened.add(uri);

    assertThatThrownBy(() -> provider.getCacheManager(uri, loader, properties))
        .isInstanceOf(javax.cache.CacheException.class)
        .hasMessageContaining("'cache.inline.maximumSize'")
        .hasMessageContaining("java.lang.Integer");
  }

  @Test
  void getCache_declaredCacheThatFailsToBuild_failsAgainInsteadOfVanishing() {
    Properties properties = new Properties();
    properties.setProperty("cache.broken.backend", "no-such-backend");
    URI uri = URI.create("urn:cachet:test:broken");
    opened.add(uri);
    CacheManager manager = provider.getCacheManager(uri, loader, properties);

    for (int attempt = 0; attempt < 2; attempt++) {
      assertThatThrownBy(() -> manager.getCache("broken"))
          .isInstanceOf(CacheException.class)
          .hasMessageContaining("no-such-backend");
    }
    assertThatThrownBy(manager::getCacheNames).isInstanceOf(CacheException.class);
  }

  @Test
  void getCache_declaredCacheWhoseFirstBuildFails_isBuiltByTheNextCall() {
    Properties properties = new Properties();
    properties.setProperty("cache.flaky.backend", FakeRemoteBackend.NAME);
    URI uri = URI.create("urn:cachet:test:flaky");
    opened.add(uri);
    CacheManager manager = provider.getCacheManager(uri, loader, properties);
    FakeRemoteBackend.FAIL_NEXT_CONFIG.set(true);

    assertThatThrownBy(() -> manager.getCache("flaky")).isInstanceOf(CacheException.class);

    Cache<Object, Object> flaky = manager.getCache("flaky");
    assertThat(flaky).isNotNull();
    assertThat(flaky.unwrap(io.cachet.Cache.class).config().backend()).isEqualTo(FakeRemoteBackend.NAME);
    assertThat(manager.getCacheNames()).containsExactly("flaky");
  }

  @Test
  void getCacheManager_unknownOptionInProperties_namesItAndTheJCacheSettings() {
    Properties properties = new Properties();
    properties.setProperty("cache.users.maxSize", "5");
    URI uri = URI.create("urn:cachet:test:typo");
    opened.add(uri);

    assertThatThrownBy(() -> provider.getCacheManager(uri, loader, properties))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("unknown cache option 'cache.users.maxSize' in the cache manager's properties")
        .hasMessageContaining("jcache.[keyType, managementEnabled, statisticsEnabled, storeByValue, valueType]");
  }

  @Test
  void setOption_unknownOption_throwsIllegalArgumentExceptionNamingIt() {
    assertThatThrownBy(() -> new CachetConfiguration<>().setOption("maxSize", "1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxSize");
  }
}
