package io.cachet.examples.proxy;

import static java.util.Objects.requireNonNull;

import io.cachet.codec.Codec;
import java.util.Arrays;

/**
 * A Redis key as Redis sees it: any bytes, compared by content. The proxy's cache is keyed by
 * this type rather than by {@code String} so that every key a Redis client can use (binary,
 * invalid UTF-8, NUL bytes) is served unchanged, and rather than by {@code byte[]}, whose
 * identity equality would never find a key in the near cache again.
 *
 * <p>Immutable: the bytes are copied on the way in ({@link #copyOf}) and never handed out;
 * {@link #CODEC} copies them on the way out. Thread-safe.
 */
final class RedisKey {

  /** Encodes a key as its own bytes; any bytes decode. */
  static final Codec<RedisKey> CODEC = new Codec<>() {
    @Override
    public byte[] encode(RedisKey key) {
      return key.bytes.clone(); // the backend may keep or prefix the array: never share ours
    }

    @Override
    public RedisKey decode(byte[] bytes) {
      return new RedisKey(bytes.clone());
    }

    @Override
    public Class<RedisKey> type() {
      return RedisKey.class;
    }

    @Override
    public String toString() {
      return "RedisKey.CODEC (raw bytes)";
    }
  };

  private static final int MAX_SHOWN = 200;

  private final byte[] bytes;
  private final int hash;

  private RedisKey(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  /** Returns the key made of a copy of {@code bytes}. */
  static RedisKey copyOf(byte[] bytes) {
    return new RedisKey(requireNonNull(bytes, "bytes").clone());
  }

  /**
   * Returns the key made of {@code bytes} itself, for arrays the caller just allocated and
   * will not touch again (the decoder's argument copies).
   */
  static RedisKey wrap(byte[] bytes) {
    return new RedisKey(requireNonNull(bytes, "bytes"));
  }

  /** Returns the key's length in bytes. */
  int length() {
    return bytes.length;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof RedisKey key && key.hash == hash && Arrays.equals(key.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /**
   * Returns the key for messages and logs: printable ASCII as is, every other byte as
   * {@code \xNN} (as redis-cli shows keys), cut after 200 characters.
   */
  @Override
  public String toString() {
    return Resp.quote(bytes, MAX_SHOWN);
  }
}
