package io.cachet.jcache.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.jcache.CachetCacheManager;
import java.net.URI;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.Test;

/** One cache manager per URI and class loader, as JCache asks. */
final class CachetCachingProviderTest {

  private final CachingProvider provider = Caching.getCachingProvider();

  @Test
  void getCachingProvider_findsCachet() {
    assertThat(provider).isInstanceOf(CachetCachingProvider.class);
    assertThat(provider.isSupported(OptionalFeature.STORE_BY_REFERENCE)).isTrue();
    assertThat(provider.getDefaultURI()).isEqualTo(URI.create(CachetCachingProvider.DEFAULT_URI));
  }

  @Test
  void getCacheManager_perUriAndClassLoader() {
    URI uri = URI.create("urn:cachet:test:isolation");
    ClassLoader mine = getClass().getClassLoader();
    ClassLoader other = new ClassLoader(mine) {};
    try {
      CacheManager first = provider.getCacheManager(uri, mine);

      assertThat(provider.getCacheManager(uri, mine)).isSameAs(first);
      assertThat(provider.getCacheManager(uri, other)).isNotSameAs(first);
      assertThat(provider.getCacheManager(URI.create("urn:cachet:test:other"), mine)).isNotSameAs(first);
      assertThat(first.unwrap(CachetCacheManager.class).getClassLoader()).isSameAs(mine);

      provider.close(uri, mine);
      assertThat(first.isClosed()).isTrue();
      assertThat(provider.getCacheManager(uri, mine)).isNotSameAs(first);
    } finally {
      // Only ours: the TCK's tests share the default manager of this class loader.
      provider.close(uri, mine);
      provider.close(URI.create("urn:cachet:test:other"), mine);
      provider.close(other);
    }
  }
}
