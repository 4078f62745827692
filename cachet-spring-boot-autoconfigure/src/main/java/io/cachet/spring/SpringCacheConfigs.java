package io.cachet.spring;

import io.cachet.CacheConfig;
import io.cachet.codec.Codec;
import java.util.Optional;
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
 */
final class SpringCacheConfigs {

  private SpringCacheConfigs() {}

  /** Returns {@code config} made able to hold Spring's {@code NullValue} when {@code allowNullValues}. */
  static CacheConfig<?, ?> forSpring(CacheConfig<?, ?> config, boolean allowNullValues) {
    if (!allowNullValues || config.valueType().isAssignableFrom(NullValue.class)) {
      return config;
    }
    Optional<? extends Codec<?>> codec = config.valueCodec();
    // A codec of the declared type cannot hold NullValue: wrap it (a local cache never uses it, but
    // the configuration keeps its types and codecs consistent).
    if (codec.isPresent()) {
      return config.toBuilder().valueCodec(new NullValueCodec(codec.get())).build();
    }
    return config.toBuilder().valueType(Object.class).build();
  }
}
