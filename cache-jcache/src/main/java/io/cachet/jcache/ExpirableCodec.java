package io.cachet.jcache;

import io.cachet.codec.Codec;
import io.cachet.codec.CodecException;
import java.nio.ByteBuffer;

/**
 * Encodes an {@link Expirable} for remote backends: its 8-byte deadline followed by the value's
 * bytes from the configured value codec. Thread-safe if the value codec is.
 */
final class ExpirableCodec implements Codec<Expirable> {

  private final Codec<Object> valueCodec;

  ExpirableCodec(Codec<?> valueCodec) {
    this.valueCodec = ObjectCodec.of(valueCodec);
  }

  @Override
  public byte[] encode(Expirable value) {
    byte[] bytes = valueCodec.encode(value.value());
    return ByteBuffer.allocate(Long.BYTES + bytes.length)
        .putLong(value.expireAtMillis())
        .put(bytes)
        .array();
  }

  @Override
  public Expirable decode(byte[] bytes) {
    if (bytes.length < Long.BYTES) {
      throw new CodecException("a JCache entry needs at least 8 bytes, was " + bytes.length, null);
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    long expireAt = buffer.getLong();
    byte[] rest = new byte[buffer.remaining()];
    buffer.get(rest);
    return new Expirable(valueCodec.decode(rest), expireAt);
  }

  @Override
  public Class<Expirable> type() {
    return Expirable.class;
  }

  @Override
  public String toString() {
    return "ExpirableCodec(" + valueCodec + ")";
  }
}
