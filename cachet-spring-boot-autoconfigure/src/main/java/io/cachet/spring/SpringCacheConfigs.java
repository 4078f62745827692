package io.cachet.spring;

import io.cachet.CacheConfig;
import io.cachet.RemovalListener;
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
 *
 * <p>A removal listener is typed by the values: it is taken off while the value type widens, and
 * put back told about the declared values only (a cached {@code null} is Spring's
 * {@code NullValue}, which the listener's type cannot hold).
 */
final class SpringCacheConfigs {

  private SpringCacheConfigs() {}

  /** Returns {@code config} made able to hold Spring's {@code NullValue} when {@code allowNullValues}. */
  @SuppressWarnings("unchecked") // the widened cache holds the declared values and NullValue
  static CacheConfig<?, ?> forSpring(CacheConfig<?, ?> config, boolean allowNullValues) {
    if (!allowNullValues || config.valueType().isAssignableFrom(NullValue.class)) {
      return config;
    }
    Optional<? extends RemovalListener<?, ?>> listener = config.removalListener();
    CacheConfig.Builder<?, ?> builder = config.toBuilder().withoutRemovalListener();
    Optional<? extends Codec<?>> codec = config.valueCodec();
    // A codec of the declared type cannot hold NullValue: wrap it (a local cache never uses it, but
    // the configuration keeps its types and codecs consistent).
    CacheConfig.Builder<Object, Object> widened = (CacheConfig.Builder<Object, Object>)
        (codec.isPresent() ? builder.valueCodec(new NullValueCodec(codec.get())) : builder.valueType(Object.class));
    if (listener.isPresent()) {
      RemovalListener<Object, Object> declared = (RemovalListener<Object, Object>) listener.get();
      widened.removalListener((key, value, cause) -> {
        if (value != NullValue.INSTANCE) {
          declared.onRemoval(key, value, cause);
        }
      });
    }
    return widened.build();
  }
}
