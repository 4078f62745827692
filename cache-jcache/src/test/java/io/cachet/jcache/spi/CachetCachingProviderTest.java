package io.cachet.jcache.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.jcache.CachetCacheManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
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
  void getCacheManager_neverClosed_letsItsClassLoaderBeCollected() {
    WeakReference<ClassLoader> collected = useAndForgetAClassLoader();

    await().atMost(Duration.ofSeconds(20)).until(() -> {
      System.gc();
      return collected.get() == null;
    });
  }

  /** Uses a manager of a fresh class loader (store-by-value copies included) and drops both. */
  private WeakReference<ClassLoader> useAndForgetAClassLoader() {
    ClassLoader loader = new URLClassLoader(new URL[0], getClass().getClassLoader());
    CacheManager manager = provider.getCacheManager(URI.create("urn:cachet:test:forgotten"), loader);
    Cache<String, ArrayList<String>> cache =
        manager.createCache("c", new MutableConfiguration<String, ArrayList<String>>().setStoreByValue(true));
    cache.put("k", new ArrayList<>(List.of("copied through serialization")));
    assertThat(cache.get("k")).containsExactly("copied through serialization");
    return new WeakReference<>(loader);
  }

  @Test
  void close_ofAClassLoaderWhoseClassTypesACache_letsItBeCollected() throws Exception {
    WeakReference<ClassLoader> collected = useAClassLoadersOwnClassAndClose();

    await().atMost(Duration.ofSeconds(20)).until(() -> {
      System.gc();
      return collected.get() == null;
    });
  }

  /** A key class of an application's own. */
  public static final class AppKey implements Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean equals(Object other) {
      return other != null && other.getClass() == getClass();
    }

    @Override
    public int hashCode() {
      return 1;
    }
  }

  /** Defines {@link AppKey} itself, from the test's class file; delegates everything else. */
  private static final class AppClassLoader extends ClassLoader {
    AppClassLoader(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.equals(AppKey.class.getName())) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> loaded = findLoadedClass(name);
        if (loaded == null) {
          try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
            byte[] bytes = in.readAllBytes();
            loaded = defineClass(name, bytes, 0, bytes.length);
          } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
          }
        }
        return loaded;
      }
    }
  }

  /**
   * Types a cache with a class of a fresh class loader (stored by value, so copies resolve it
   * there too), then closes the loader's managers through the provider and drops the loader.
   */
  private WeakReference<ClassLoader> useAClassLoadersOwnClassAndClose() throws Exception {
    ClassLoader loader = new AppClassLoader(getClass().getClassLoader());
    @SuppressWarnings("unchecked")
    Class<Object> keyType = (Class<Object>) loader.loadClass(AppKey.class.getName());
    assertThat(keyType).isNotSameAs(AppKey.class);
    CacheManager manager = provider.getCacheManager(URI.create("urn:cachet:test:undeployed"), loader);
    Cache<Object, String> cache =
        manager.createCache("c", new MutableConfiguration<Object, String>().setTypes(keyType, String.class));
    Object key = keyType.getDeclaredConstructor().newInstance();
    cache.put(key, "v");
    assertThat(cache.get(key)).isEqualTo("v");

    provider.close(loader);

    assertThat(manager.isClosed()).isTrue();
    return new WeakReference<>(loader);
  }

  @Test
  void close_ofAManager_hasTheProviderForgetIt() {
    ClassLoader loader = new URLClassLoader(new URL[0], getClass().getClassLoader());
    URI uri = URI.create("urn:cachet:test:closed");
    try {
      WeakReference<CacheManager> closed = getAndClose(uri, loader);

      await("the closed manager collected").atMost(Duration.ofSeconds(10)).until(() -> {
        System.gc();
        return closed.get() == null;
      });
      CacheManager next = provider.getCacheManager(uri, loader);
      assertThat(next.isClosed()).isFalse();
      assertThat(provider.getCacheManager(uri, loader)).isSameAs(next);
    } finally {
      provider.close(loader);
    }
  }

  private WeakReference<CacheManager> getAndClose(URI uri, ClassLoader loader) {
    CacheManager manager = provider.getCacheManager(uri, loader);
    manager.createCache("c", new MutableConfiguration<String, String>());
    manager.close();
    return new WeakReference<>(manager);
  }

  @Test
  void forget_leavesAnOpenManagerAndTheOneThatReplacedAClosedOne() {
    URI uri = URI.create("urn:cachet:test:replaced");
    ClassLoader loader = new URLClassLoader(new URL[0], getClass().getClassLoader());
    CachetCachingProvider cachet = (CachetCachingProvider) provider;
    try {
      CachetCacheManager open = provider.getCacheManager(uri, loader).unwrap(CachetCacheManager.class);
      cachet.forget(open);
      assertThat(provider.getCacheManager(uri, loader)).as("an open manager is kept").isSameAs(open);

      open.close();
      CacheManager next = provider.getCacheManager(uri, loader);
      cachet.forget(open);
      assertThat(provider.getCacheManager(uri, loader)).as("the manager replacing it is kept").isSameAs(next);
    } finally {
      provider.close(loader);
    }
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
