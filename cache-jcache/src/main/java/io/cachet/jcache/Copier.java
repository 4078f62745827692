package io.cachet.jcache;

import io.cachet.codec.Codec;
import io.cachet.codec.CodecException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.ZonedDateTime;
import java.util.Set;
import java.util.UUID;
import javax.cache.CacheException;

/**
 * Copies keys and values for store-by-value caches, so that neither the caller nor the cache sees
 * the other mutate an object. Thread-safe.
 *
 * <p>Objects of well-known immutable types are shared, not copied; anything else is copied through
 * Java serialization, resolving classes with the cache manager's class loader (so a cache honours
 * the class loader isolation JCache asks for; see {@link CachetCacheManager#serializationCodec()}).
 */
interface Copier {

  /** Returns {@code object} itself: store-by-reference. */
  static Copier identity() {
    return object -> object;
  }

  /**
   * Returns a copier through Java serialization with {@code codec}, for the cache called
   * {@code cacheName}.
   */
  static Copier serializing(String cacheName, Codec<Serializable> codec) {
    return new SerializingCopier(cacheName, codec);
  }

  /**
   * Returns an object equal to {@code object} that shares no mutable state with it.
   *
   * @throws CacheException if the object cannot be copied
   */
  Object copy(Object object);
}

/** Copies through Java serialization, except for immutable JDK types. */
final class SerializingCopier implements Copier {

  private static final Set<Class<?>> IMMUTABLE =
      Set.of(
          String.class, Boolean.class, Byte.class, Short.class, Character.class, Integer.class,
          Long.class, Float.class, Double.class, BigInteger.class, BigDecimal.class, UUID.class,
          URI.class, Instant.class, LocalDate.class, LocalTime.class, LocalDateTime.class,
          OffsetDateTime.class, ZonedDateTime.class, java.time.Duration.class, Period.class,
          javax.cache.expiry.Duration.class);

  private final String cacheName;
  private final Codec<Serializable> codec;

  SerializingCopier(String cacheName, Codec<Serializable> codec) {
    this.cacheName = cacheName;
    this.codec = codec;
  }

  @Override
  public Object copy(Object object) {
    if (IMMUTABLE.contains(object.getClass()) || object instanceof Enum<?>) {
      return object;
    }
    if (!(object instanceof Serializable serializable)) {
      throw new CacheException(
          "cache '" + cacheName + "' stores by value, which copies through Java serialization, but "
              + object.getClass().getName() + " is not Serializable; make it Serializable or "
              + "configure the cache with setStoreByValue(false)");
    }
    try {
      return codec.decode(codec.encode(serializable));
    } catch (CodecException e) {
      throw new CacheException(
          "cache '" + cacheName + "' could not copy a " + object.getClass().getName()
              + " through Java serialization: " + e.getMessage(), e);
    }
  }
}
