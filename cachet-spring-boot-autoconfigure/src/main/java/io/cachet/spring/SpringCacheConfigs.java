package io.cachet.spring;

import io.cachet.BackendOptions;
import io.cachet.CacheConfig;
import io.cachet.RemovalListener;
import io.cachet.codec.Codec;
import io.cachet.spi.CacheBackendProvider;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import org.springframework.cache.support.NullValue;

/**
 * Adapts a {@link CacheConfig} so that the cache can hold what Spring stores in it.
 *
 * <p>Spring caches keys of any type and, when null values are allowed, a {@link NullValue} for a
 * {@code null} result. A local cache that declares no key or value type is given {@code Object}
 * keys and values by the auto-configuration. With null values allowed, a cache whose value type
 * cannot hold a {@code NullValue} gets {@code Object} values: through a codec that also writes a
 * null marker on remote backends, or as plain objects on the local one. The type Spring callers may
 * store stays the declared one, which {@link CachetCache} checks.
 *
 * <p>A removal listener is typed by the values, so a configuration that has one cannot change its
 * value type through {@link CacheConfig#toBuilder()}: it is rebuilt, type options first, with every
 * other option copied, and the listener is told about the declared values only (a cached
 * {@code null} is Spring's {@code NullValue}, which the listener's type cannot hold).
 */
final class SpringCacheConfigs {

  private static final String BACKEND_OPTIONS = "backendOptions=";

  private SpringCacheConfigs() {}

  /** Returns {@code config} made able to hold Spring's {@code NullValue} when {@code allowNullValues}. */
  static CacheConfig<?, ?> forSpring(CacheConfig<?, ?> config, boolean allowNullValues) {
    if (!allowNullValues || config.valueType().isAssignableFrom(NullValue.class)) {
      return config;
    }
    if (config.removalListener().isPresent()) {
      return rebuiltWithObjectValues(config);
    }
    Optional<? extends Codec<?>> codec = config.valueCodec();
    // A codec of the declared type cannot hold NullValue: wrap it (a local cache never uses it, but
    // the configuration keeps its types and codecs consistent).
    if (codec.isPresent()) {
      return config.toBuilder().valueCodec(new NullValueCodec(codec.get())).build();
    }
    return config.toBuilder().valueType(Object.class).build();
  }

  @SuppressWarnings("unchecked") // the rebuilt cache holds the declared values and NullValue
  private static CacheConfig<?, ?> rebuiltWithObjectValues(CacheConfig<?, ?> config) {
    CacheConfig.Builder<?, ?> typed = CacheConfig.builder(config.name());
    typed = config.keyCodec().isPresent()
        ? typed.keyCodec(config.keyCodec().get())
        : typed.keyType(config.keyType());
    typed = config.valueCodec().isPresent()
        ? typed.valueCodec(new NullValueCodec(config.valueCodec().get()))
        : typed.valueType(Object.class);
    CacheConfig.Builder<Object, Object> b = (CacheConfig.Builder<Object, Object>) typed;
    b.backend(config.backend())
        .maximumSize(config.maximumSize())
        .evictionPolicy(config.evictionPolicy())
        .recordStats(config.recordStats())
        .ticker(config.ticker())
        .clock(config.clock())
        .executor(config.executor());
    config.expireAfterWrite().ifPresent(b::expireAfterWrite);
    config.refreshAfterWrite().ifPresent(b::refreshAfterWrite);
    if (config.expireAfterAccess().isPresent()) {
      b.expireAfterAccess(config.expireAfterAccess().get()); // which turns per-entry TTLs off
    } else {
      b.perEntryTtl(config.perEntryTtl());
    }
    for (Class<? extends BackendOptions> type : backendOptionTypes()) {
      config.backendOptions(type).ifPresent(b::backendOptions);
    }
    RemovalListener<Object, Object> listener =
        (RemovalListener<Object, Object>) config.removalListener().orElseThrow();
    b.removalListener((key, value, cause) -> {
      if (value != NullValue.INSTANCE) {
        listener.onRemoval(key, value, cause);
      }
    });
    CacheConfig<Object, Object> rebuilt = b.build();
    // Backend options can only be looked up by class: refuse to drop any whose class no backend
    // on the class path names. Their text is compared by length, since their order is unspecified.
    if (backendOptionsText(rebuilt).length() != backendOptionsText(config).length()) {
      throw new IllegalStateException(
          "cache '" + config.name() + "' has a removal listener and backend options of a backend"
              + " not on the class path, so it cannot be given Object values to hold Spring's"
              + " NullValue; disallow null values for it");
    }
    return rebuilt;
  }

  /** Returns the classes of the options of the backends on the class path, from their parsers. */
  private static Set<Class<? extends BackendOptions>> backendOptionTypes() {
    Map<String, CacheBackendProvider> providers = new LinkedHashMap<>();
    Set<ClassLoader> loaders = new LinkedHashSet<>();
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    if (context != null) {
      loaders.add(context);
    }
    loaders.add(SpringCacheConfigs.class.getClassLoader());
    for (ClassLoader loader : loaders) {
      try {
        for (CacheBackendProvider provider : ServiceLoader.load(CacheBackendProvider.class, loader)) {
          providers.putIfAbsent(provider.getClass().getName() + "@" + loader, provider);
        }
      } catch (ServiceConfigurationError e) {
        // a broken registration names no options class; the length check below catches a loss
      }
    }
    Set<Class<? extends BackendOptions>> types = new LinkedHashSet<>();
    for (CacheBackendProvider provider : providers.values()) {
      try {
        provider.parseOptions(Map.of()).ifPresent(options -> types.add(options.getClass()));
      } catch (RuntimeException e) {
        // a backend without defaults for its options; the length check below catches a loss
      }
    }
    return types;
  }

  private static String backendOptionsText(CacheConfig<?, ?> config) {
    String text = config.toString();
    int at = text.lastIndexOf(BACKEND_OPTIONS);
    return at < 0 ? "" : text.substring(at);
  }
}
