package io.cachet.spi;

import static java.util.Objects.requireNonNull;

import io.cachet.CacheConfig;
import io.cachet.codec.Codec;
import java.time.Duration;

/** Argument checks every backend applies the same way, with the same messages. */
public final class Checks {

  private Checks() {}

  /** Returns {@code ttl} if it is positive; otherwise throws IAE naming it. */
  public static Duration requirePositiveTtl(Duration ttl) {
    requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0, was " + ttl);
    }
    return ttl;
  }

  /** Returns {@code ttl} if it is zero or positive; otherwise throws IAE naming it. */
  public static Duration requireNonNegativeTtl(Duration ttl) {
    requireNonNull(ttl, "ttl");
    if (ttl.isNegative()) {
      throw new IllegalArgumentException("ttl must be >= 0, was " + ttl);
    }
    return ttl;
  }

  /**
   * Returns {@code duration} in nanoseconds, saturating at {@link Long#MAX_VALUE} instead of
   * overflowing for very long durations.
   */
  public static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /**
   * Returns the key codec of {@code config}, for a backend that stores bytes and finds keys again
   * by {@code equals}.
   *
   * @throws IllegalArgumentException naming the cache, the backend and the key type if the
   *     configuration has none, or if the key type is an array (arrays compare by identity, so a
   *     key decoded from the bytes would never equal the one stored)
   */
  public static <K> Codec<K> keyCodec(CacheConfig<K, ?> config, String backend) {
    if (config.keyType().isArray()) {
      throw new IllegalArgumentException(
          "cache '" + config.name() + "' on backend '" + backend + "': keyCodec must encode a type with value"
              + " equality, was " + config.keyCodec().map(Object::toString).orElse("none")
              + " for " + config.keyType().getName()
              + " (arrays compare by identity, so a key could never be found again)");
    }
    return config.keyCodec().orElseThrow(() -> missingCodec(config, backend, "key", config.keyType()));
  }

  /**
   * Returns the value codec of {@code config}, for a backend that stores bytes.
   *
   * @throws IllegalArgumentException naming the cache, the backend and the value type if the
   *     configuration has none
   */
  public static <V> Codec<V> valueCodec(CacheConfig<?, V> config, String backend) {
    return config.valueCodec().orElseThrow(() -> missingCodec(config, backend, "value", config.valueType()));
  }

  private static IllegalArgumentException missingCodec(
      CacheConfig<?, ?> config, String backend, String what, Class<?> type) {
    return new IllegalArgumentException(
        "cache '" + config.name() + "' on backend '" + backend + "' stores " + what + "s as bytes and needs a "
            + what + "Codec for " + type.getName() + "; set " + what + "Codec(...)");
  }

  /**
   * Refuses {@code refreshAfterWrite} without {@code expireAfterWrite}, for a backend that tells an
   * entry's age from its remaining time to live ({@code expireAfterWrite} minus what remains).
   *
   * @throws IllegalArgumentException naming the cache, the backend and both options
   */
  public static void requireExpireAfterWriteForRefresh(CacheConfig<?, ?> config, String backend) {
    if (config.refreshAfterWrite().isPresent() && config.expireAfterWrite().isEmpty()) {
      throw new IllegalArgumentException(
          "cache '" + config.name() + "': backend '" + backend + "' supports refreshAfterWrite ("
              + config.refreshAfterWrite().get() + ") only with expireAfterWrite, because it tells an entry's"
              + " age from its remaining time to live; set expireAfterWrite longer than refreshAfterWrite"
              + " (docs/backends.md)");
    }
  }

  /** Returns the error for a configuration option that backend {@code backend} does not offer. */
  public static IllegalArgumentException unsupported(CacheConfig<?, ?> config, String backend, String option) {
    return new IllegalArgumentException(
        "cache '" + config.name() + "': backend '" + backend + "' does not support " + option
            + " (docs/backends.md lists what each backend supports)");
  }
}
