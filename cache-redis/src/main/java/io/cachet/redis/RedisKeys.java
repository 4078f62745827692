package io.cachet.redis;

import io.cachet.CacheConfig;
import io.cachet.codec.Codec;
import io.cachet.codec.CodecException;
import io.cachet.spi.Checks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * How one cache's keys and values become Redis bytes: the key prefix, the codecs, and the {@link
 * CodecException} naming the key and the cache when a codec fails. Immutable, thread-safe.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class RedisKeys<K, V> {

  private final String cacheName;
  private final String keyPrefix;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final byte[] prefix;

  RedisKeys(CacheConfig<K, V> config, RedisOptions options) {
    this.cacheName = config.name();
    this.keyPrefix = options.keyPrefix();
    this.keyCodec = Checks.keyCodec(config, RedisCacheProvider.NAME);
    this.valueCodec = Checks.valueCodec(config, RedisCacheProvider.NAME);
    this.prefix = keyPrefix.getBytes(StandardCharsets.UTF_8);
  }

  Codec<K> keyCodec() {
    return keyCodec;
  }

  /** The key prefix's bytes; not to be modified. */
  byte[] prefix() {
    return prefix;
  }

  /** The Redis key of {@code key}: the prefix, then the encoded key. */
  byte[] redisKey(K key) {
    byte[] encoded;
    try {
      encoded = keyCodec.encode(key);
    } catch (RuntimeException e) {
      throw new CodecException("cannot encode key '" + key + "' of cache '" + cacheName + "' with " + keyCodec, e);
    }
    if (prefix.length == 0) {
      return encoded;
    }
    byte[] full = Arrays.copyOf(prefix, prefix.length + encoded.length);
    System.arraycopy(encoded, 0, full, prefix.length, encoded.length);
    return full;
  }

  byte[] encode(K key, V value) {
    try {
      return valueCodec.encode(value);
    } catch (RuntimeException e) {
      throw new CodecException(
          "cannot encode the value of key '" + key + "' of cache '" + cacheName + "' with " + valueCodec, e);
    }
  }

  V decode(K key, byte[] raw) {
    try {
      return valueCodec.decode(raw);
    } catch (RuntimeException e) {
      throw new CodecException(
          "key '" + key + "' of cache '" + cacheName + "' holds " + raw.length + " bytes that " + valueCodec
              + " cannot decode (written by another client?)",
          e);
    }
  }

  /** A {@code SCAN MATCH} pattern for every key of this cache: the prefix, glob-escaped, then {@code *}. */
  String pattern() {
    StringBuilder sb = new StringBuilder();
    for (char c : keyPrefix.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.append('*').toString();
  }

  /** The arguments of {@code SET key value [PX ttl]}. */
  static Object[] setArgs(byte[] redisKey, byte[] value, @Nullable Long ttlMillis) {
    return ttlMillis == null
        ? new Object[] {redisKey, value}
        : new Object[] {redisKey, value, "PX", ttlMillis};
  }

  /** {@code duration} in whole milliseconds, at least 1 (Redis refuses a {@code PX} of 0). */
  static long millis(Duration duration) {
    long ms = Checks.saturatedNanos(duration) / 1_000_000L;
    return Math.max(1, ms);
  }
}
