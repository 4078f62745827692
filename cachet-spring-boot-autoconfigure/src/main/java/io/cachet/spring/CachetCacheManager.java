package io.cachet.spring;

import static java.util.Objects.requireNonNull;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import java.util.Collection;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.cache.CacheManager;
import org.springframework.cache.support.NullValue;
import org.springframework.core.convert.ConversionService;
import org.springframework.core.convert.support.DefaultConversionService;

/**
 * A Spring {@link CacheManager} over a Cachet {@link io.cachet.CacheManager}, which owns the caches
 * and their backend resources.
 *
 * <pre>{@code
 * CachetCacheManager spring = new CachetCacheManager(cachet, true);
 * spring.create(CacheConfig.builder("orders").backend("redis").valueCodec(Codecs.json(Order.class)).build());
 * }</pre>
 *
 * <p>{@link #getCache(String)} returns the caches created here, then any cache of the Cachet
 * manager (adapted with its own types), then, when a default configuration is set with
 * {@link #setDynamic(Function)}, a new cache created from it; otherwise {@code null}, as Spring
 * expects of a static cache manager. Thread-safe.
 */
public final class CachetCacheManager implements CacheManager {

  private final io.cachet.CacheManager cachet;
  private final boolean allowNullValues;
  private final ConversionService conversions;
  private final ConcurrentHashMap<String, CachetCache> caches = new ConcurrentHashMap<>();
  private volatile @Nullable Function<String, CacheConfig<?, ?>> dynamic;
  private volatile Consumer<CachetCache> onNewCache = cache -> {};

  /**
   * Creates a manager serving the caches of {@code cachet}.
   *
   * @param allowNullValues whether caches created here store {@code null} (as Spring's
   *     {@link NullValue}) by default
   */
  public CachetCacheManager(io.cachet.CacheManager cachet, boolean allowNullValues) {
    this(cachet, allowNullValues, DefaultConversionService.getSharedInstance());
  }

  /** Creates a manager converting keys to each cache's key type with {@code conversions}. */
  public CachetCacheManager(
      io.cachet.CacheManager cachet, boolean allowNullValues, ConversionService conversions) {
    this.cachet = requireNonNull(cachet, "cachet");
    this.allowNullValues = allowNullValues;
    this.conversions = requireNonNull(conversions, "conversions");
  }

  /** Creates the cache {@code config} describes, with the manager's null-value setting. */
  public CachetCache create(CacheConfig<?, ?> config) {
    return create(config, allowNullValues);
  }

  /**
   * Creates the cache {@code config} describes in the Cachet manager and serves it to Spring.
   *
   * <p>With {@code allowNullValues}, a cache whose value type cannot hold Spring's
   * {@link NullValue} is created with {@code Object} values (see the package's adapter notes);
   * Spring callers may still store only {@code config.valueType()}.
   *
   * @throws IllegalStateException if a cache of that name exists
   */
  public CachetCache create(CacheConfig<?, ?> config, boolean allowNullValues) {
    requireNonNull(config, "config");
    Cache<?, ?> cache = cachet.create(springConfig(config, allowNullValues));
    return adopt(cache, config.valueType(), allowNullValues);
  }

  /**
   * Returns {@code config} made able to hold what Spring stores: with {@code allowNullValues}, a
   * cache whose value type cannot hold Spring's {@link NullValue} gets {@code Object} values,
   * through a codec that also writes a null marker on remote backends.
   */
  public static CacheConfig<?, ?> springConfig(CacheConfig<?, ?> config, boolean allowNullValues) {
    return SpringCacheConfigs.forSpring(config, allowNullValues);
  }

  /**
   * Serves {@code cache}, an open cache of the Cachet manager built from
   * {@link #springConfig}, to Spring.
   *
   * @param valueType the type Spring callers may store, the one declared before
   *     {@link #springConfig} widened it
   */
  public CachetCache adopt(Cache<?, ?> cache, Class<?> valueType, boolean allowNullValues) {
    CachetCache adapted = new CachetCache(cache, valueType, allowNullValues, conversions);
    caches.put(cache.name(), adapted);
    onNewCache.accept(adapted);
    return adapted;
  }

  /**
   * Makes {@link #getCache(String)} create a cache for an unknown name from
   * {@code defaults.apply(name)}; {@code null} turns that off.
   */
  public void setDynamic(@Nullable Function<String, CacheConfig<?, ?>> defaults) {
    this.dynamic = defaults;
  }

  /** Sets what to do with each cache this manager adapts after the call, such as binding meters. */
  public void setOnNewCache(Consumer<CachetCache> onNewCache) {
    this.onNewCache = requireNonNull(onNewCache, "onNewCache");
  }

  /** Returns the Cachet manager behind this one. */
  public io.cachet.CacheManager getCachetManager() {
    return cachet;
  }

  @Override
  public org.springframework.cache.@Nullable Cache getCache(String name) {
    requireNonNull(name, "name");
    CachetCache known = caches.get(name);
    if (known != null && !known.getNativeCache().isClosed()) {
      return known;
    }
    Cache<?, ?> existing = cachet.getCache(name);
    if (existing != null) {
      return adopt(existing);
    }
    Function<String, CacheConfig<?, ?>> defaults = dynamic;
    if (defaults == null) {
      return null;
    }
    synchronized (this) {
      existing = cachet.getCache(name);
      return existing != null ? adopt(existing) : create(defaults.apply(name));
    }
  }

  private CachetCache adopt(Cache<?, ?> cache) {
    boolean nulls = allowNullValues && cache.config().valueType().isAssignableFrom(NullValue.class);
    CachetCache created = new CachetCache(cache, cache.config().valueType(), nulls, conversions);
    CachetCache raced = caches.putIfAbsent(cache.name(), created);
    if (raced != null && raced.getNativeCache() == cache) {
      return raced;
    }
    if (raced != null) {
      caches.put(cache.name(), created);
    }
    onNewCache.accept(created);
    return created;
  }

  @Override
  public Collection<String> getCacheNames() {
    Set<String> names = new TreeSet<>(cachet.cacheNames());
    return Collections.unmodifiableSet(names);
  }
}
