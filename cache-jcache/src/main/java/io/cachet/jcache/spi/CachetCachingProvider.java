package io.cachet.jcache.spi;

import io.cachet.jcache.CachetCacheManager;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Cachet {@link CachingProvider}, found by {@link javax.cache.Caching} through
 * {@code META-INF/services/javax.cache.spi.CachingProvider}. Thread-safe.
 *
 * <pre>{@code
 * CacheManager manager = Caching.getCachingProvider().getCacheManager();
 * Cache<String, String> users = manager.createCache("users",
 *     new MutableConfiguration<String, String>().setTypes(String.class, String.class));
 * }</pre>
 *
 * <p>Keeps one {@link CachetCacheManager} per URI and class loader, as JCache requires. The default
 * URI only names the default manager; a URI with the {@code classpath:}, {@code file:} or
 * {@code jar:} scheme names a properties file that declares caches.
 *
 * <p>Managers are kept in a map keyed weakly by class loader, and each stays in it, strongly held,
 * until it is closed (by {@link CacheManager#close()} or through this provider), so that
 * {@link #getCacheManager} returns the same open manager. A manager refers to its class loader only
 * weakly, but its caches usually refer to it: through their key and value types, their loaders,
 * writers, expiry policies and listeners, their values. An application being undeployed therefore
 * closes its managers ({@link #close(ClassLoader)} closes all those of a class loader); after that,
 * nothing here keeps its class loader alive.
 */
public final class CachetCachingProvider implements CachingProvider {

  private static final Logger log = LoggerFactory.getLogger(CachetCachingProvider.class);

  /**
   * The system property (also read from a manager's properties) that names the backend of caches
   * whose configuration does not choose one: {@value}; {@code local} when unset.
   */
  public static final String DEFAULT_BACKEND_PROPERTY = "cachet.jcache.default.backend";

  /** The URI of the default cache manager: {@value}. */
  public static final String DEFAULT_URI = "urn:cachet:default";

  private final URI defaultUri = URI.create(DEFAULT_URI);
  private final WeakHashMap<ClassLoader, Map<URI, CachetCacheManager>> managers = new WeakHashMap<>(); // guarded by this

  /** Creates the provider; called by {@link java.util.ServiceLoader} through {@code Caching}. */
  public CachetCachingProvider() {}

  @Override
  public CacheManager getCacheManager(@Nullable URI uri, @Nullable ClassLoader classLoader, @Nullable Properties properties) {
    URI managerUri = uri != null ? uri : getDefaultURI();
    ClassLoader loader = classLoader != null ? classLoader : getDefaultClassLoader();
    Properties props = properties != null ? properties : getDefaultProperties();
    synchronized (this) {
      Map<URI, CachetCacheManager> byUri = managers.computeIfAbsent(loader, l -> new HashMap<>());
      CachetCacheManager manager = byUri.get(managerUri);
      if (manager == null || manager.isClosed()) {
        manager = new CachetCacheManager(this, managerUri, loader, props);
        byUri.put(managerUri, manager);
      }
      return manager;
    }
  }

  @Override
  public CacheManager getCacheManager(@Nullable URI uri, @Nullable ClassLoader classLoader) {
    return getCacheManager(uri, classLoader, getDefaultProperties());
  }

  @Override
  public CacheManager getCacheManager() {
    return getCacheManager(getDefaultURI(), getDefaultClassLoader(), getDefaultProperties());
  }

  @Override
  public ClassLoader getDefaultClassLoader() {
    return getClass().getClassLoader();
  }

  @Override
  public URI getDefaultURI() {
    return defaultUri;
  }

  @Override
  public Properties getDefaultProperties() {
    return new Properties();
  }

  @Override
  public void close() {
    List<CachetCacheManager> toClose = new ArrayList<>();
    synchronized (this) {
      managers.values().forEach(byUri -> toClose.addAll(byUri.values()));
      managers.clear();
    }
    toClose.forEach(CachetCachingProvider::closeQuietly);
  }

  @Override
  public void close(@Nullable ClassLoader classLoader) {
    ClassLoader loader = classLoader != null ? classLoader : getDefaultClassLoader();
    Map<URI, CachetCacheManager> byUri;
    synchronized (this) {
      byUri = managers.remove(loader);
    }
    if (byUri != null) {
      byUri.values().forEach(CachetCachingProvider::closeQuietly);
    }
  }

  @Override
  public void close(@Nullable URI uri, @Nullable ClassLoader classLoader) {
    URI managerUri = uri != null ? uri : getDefaultURI();
    ClassLoader loader = classLoader != null ? classLoader : getDefaultClassLoader();
    CachetCacheManager manager = null;
    synchronized (this) {
      Map<URI, CachetCacheManager> byUri = managers.get(loader);
      if (byUri != null) {
        manager = byUri.remove(managerUri);
        if (byUri.isEmpty()) {
          managers.remove(loader);
        }
      }
    }
    if (manager != null) {
      closeQuietly(manager);
    }
  }

  /**
   * Forgets {@code manager} if it is closed and still the one kept for its URI and class loader;
   * called by {@link CachetCacheManager#close()}, so that a closed manager is not held until
   * replaced. Does nothing for an open manager. (Public only because the managers live in another
   * package.)
   */
  public void forget(CachetCacheManager manager) {
    if (!manager.isClosed()) {
      return;
    }
    synchronized (this) {
      ClassLoader loader = manager.getClassLoader();
      Map<URI, CachetCacheManager> byUri = managers.get(loader);
      if (byUri != null && byUri.remove(manager.getURI(), manager) && byUri.isEmpty()) {
        managers.remove(loader);
      }
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Store-by-reference, the only optional feature JCache 1.1 defines, is supported by the
   * {@code local} backend, the default. A remote backend stores encoded bytes, so it cannot hand
   * back the instances it was given: when the system property {@value #DEFAULT_BACKEND_PROPERTY}
   * makes another backend the default, this returns {@code false}. (A cache on a remote backend
   * configured with {@code storeByValue=false} skips the JCache layer's copies, but its keys and
   * values still pass through the backend's codecs, so it behaves as store-by-value.)
   */
  @Override
  public boolean isSupported(OptionalFeature optionalFeature) {
    if (optionalFeature != OptionalFeature.STORE_BY_REFERENCE) {
      return false;
    }
    String defaultBackend = System.getProperty(DEFAULT_BACKEND_PROPERTY);
    return defaultBackend == null
        || defaultBackend.isBlank()
        || defaultBackend.trim().equals(io.cachet.CacheConfig.DEFAULT_BACKEND);
  }

  private static void closeQuietly(CachetCacheManager manager) {
    try {
      manager.close();
    } catch (RuntimeException e) {
      log.warn("Closing cache manager {} failed", manager.getURI(), e);
    }
  }

  @Override
  public String toString() {
    return "CachetCachingProvider";
  }
}
