package io.cachet;

import io.cachet.internal.DefaultCacheManager;
import io.cachet.spi.CacheBackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Creates, finds and closes named caches; one per application.
 *
 * <p>The manager owns every backend resource its caches use (clients, connections, threads) and
 * releases them all in {@link #close()}. Backends are found on the class path through
 * {@link CacheBackendProvider}. Thread-safe.
 *
 * <pre>{@code
 * try (CacheManager manager = CacheManager.create()) {
 *   Cache<String, String> greetings = manager.create(CacheConfig.builder("greetings")
 *       .maximumSize(1_000)
 *       .expireAfterWrite(Duration.ofMinutes(5))
 *       .build());
 *   greetings.put("en", "hello");
 * }
 * }</pre>
 *
 * <p>Caches can also be declared in a properties file, one option a line, with the option names
 * of {@link CacheConfig.Builder#option(String, String, ClassLoader)}, and then looked up with their
 * types:
 *
 * <pre>
 * cache.orders.maximumSize=10000
 * cache.orders.evictionPolicy=LRU
 * cache.orders.expireAfterWrite=5m
 * cache.orders.keyType=java.lang.Long
 * cache.orders.valueCodec=java:com.example.Order
 * cache.sessions.backend=redis
 * cache.sessions.redis.address=127.0.0.1:6379
 * </pre>
 *
 * <pre>{@code
 * Cache<Long, Order> orders = manager.getCache("orders", Long.class, Order.class);
 * }</pre>
 */
public interface CacheManager extends AutoCloseable {

  /** Returns a manager using the backends on this class's class loader. */
  static CacheManager create() {
    return builder().build();
  }

  /** Returns a builder for a manager with a chosen class loader, backends or declared caches. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a manager that has created every cache declared in {@code properties}.
   *
   * @throws IllegalArgumentException naming the key if an option is unknown or invalid
   * @throws IllegalStateException if a declaration's options contradict each other (such as
   *     {@code expireAfterAccess} with {@code perEntryTtl=true}), or it names a backend whose module
   *     is not on the class path
   */
  static CacheManager fromProperties(Properties properties) {
    return builder().properties(properties).build();
  }

  /**
   * Returns a manager that has created every cache declared in the properties file at {@code path}.
   *
   * @throws UncheckedIOException if the file cannot be read
   * @throws IllegalArgumentException naming the key if an option is unknown or invalid
   * @throws IllegalStateException if a declaration's options contradict each other (such as
   *     {@code expireAfterAccess} with {@code perEntryTtl=true}), or it names a backend whose module
   *     is not on the class path
   */
  static CacheManager fromProperties(Path path) {
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(path)) {
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cache configuration " + path, e);
    }
    return builder().properties(properties).source(path.toString()).build();
  }

  /**
   * Creates the cache {@code config} describes.
   *
   * @throws IllegalStateException if a cache with that name exists, if the backend is not on the
   *     class path (the message names the module to add), or if the manager is closed
   */
  <K, V> Cache<K, V> create(CacheConfig<K, V> config);

  /**
   * Returns the cache named {@code config.name()}, creating it from {@code config} if there is none.
   *
   * @throws IllegalArgumentException if the existing cache has other key or value types
   */
  <K, V> Cache<K, V> getOrCreate(CacheConfig<K, V> config);

  /**
   * Returns the cache called {@code name} if its keys and values are exactly of the types given, or
   * {@code null} if there is no such cache.
   *
   * @throws IllegalArgumentException naming the cache and both pairs of types if it exists with
   *     other types
   */
  <K, V> @Nullable Cache<K, V> getCache(String name, Class<K> keyType, Class<V> valueType);

  /** Returns the cache called {@code name}, whatever its types, or {@code null} if there is none. */
  @Nullable Cache<?, ?> getCache(String name);

  /** Returns the names of the open caches. */
  Set<String> cacheNames();

  /** Returns whether {@link #close()} was called. */
  boolean isClosed();

  /**
   * Closes every cache and then every shared backend resource. Idempotent: a call while another
   * thread closes the manager returns once that close is done.
   */
  @Override
  void close();

  /** Builds a {@link CacheManager}. Not thread-safe. */
  final class Builder {

    private @Nullable ClassLoader classLoader;
    private final java.util.List<CacheBackendProvider> providers = new java.util.ArrayList<>();
    private final Properties properties = new Properties();
    private String source = "properties";

    private Builder() {}

    /** Sets the class loader used to find backends; this class's loader by default. */
    public Builder classLoader(ClassLoader classLoader) {
      this.classLoader = java.util.Objects.requireNonNull(classLoader, "classLoader");
      return this;
    }

    /** Adds a backend explicitly, taking precedence over one of the same name on the class path. */
    public Builder provider(CacheBackendProvider provider) {
      providers.add(java.util.Objects.requireNonNull(provider, "provider"));
      return this;
    }

    /**
     * Adds cache declarations ({@code cache.<name>.<option>=value}) to create on build, including
     * those {@code properties} inherits from its defaults.
     *
     * @throws IllegalArgumentException naming the key if a {@code cache.} entry's value is not a
     *     string (put with {@code put} instead of {@code setProperty}), which {@link Properties}
     *     would otherwise leave out
     */
    public Builder properties(Properties properties) {
      java.util.Objects.requireNonNull(properties, "properties");
      io.cachet.internal.CacheProperties.requireStringValues(properties, "the properties given to the builder");
      for (String key : properties.stringPropertyNames()) {
        this.properties.setProperty(key, properties.getProperty(key));
      }
      return this;
    }

    Builder source(String source) {
      this.source = source;
      return this;
    }

    /**
     * Returns the manager, with every declared cache created.
     *
     * @throws IllegalArgumentException naming the key if a declaration is invalid
     * @throws IllegalStateException if a declaration's options contradict each other, or it names a
     *     backend whose module is not on the class path
     */
    public CacheManager build() {
      ClassLoader loader = classLoader != null ? classLoader : CacheManager.class.getClassLoader();
      return DefaultCacheManager.create(loader, providers, properties, source);
    }
  }
}
