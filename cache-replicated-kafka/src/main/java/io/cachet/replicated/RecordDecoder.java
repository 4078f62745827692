package io.cachet.replicated;

import io.cachet.codec.Codec;
import java.nio.ByteBuffer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.jspecify.annotations.Nullable;

/**
 * The replica consumer's key or value deserializer: decodes a record's bytes with the cache's
 * codec straight out of the fetched buffer, on the fetch thread, so a record costs no
 * intermediate array and the apply thread only applies. Never throws: bytes the codec refuses
 * become {@link #UNDECODABLE}, which the replica skips or marks void, as it always has (a
 * deserializer that threw would stop the consumer at that record).
 *
 * @param <T> the type the codec decodes
 */
final class RecordDecoder<T> implements Deserializer<Object> {

  /** What a key or value the codec refused decodes to; never equal to a decoded value. */
  static final Object UNDECODABLE = new Object() {
    @Override
    public String toString() {
      return "UNDECODABLE";
    }
  };

  private final Codec<T> codec;

  RecordDecoder(Codec<T> codec) {
    this.codec = codec;
  }

  /** {@code bytes} decoded, {@code null} for none, or {@link #UNDECODABLE}. */
  static @Nullable Object decode(Codec<?> codec, byte @Nullable [] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return codec.decode(bytes); // an array of the caller's own: no copy of a range needed
    } catch (RuntimeException e) {
      return UNDECODABLE;
    }
  }

  @Override
  public @Nullable Object deserialize(String topic, byte @Nullable [] data) {
    return decode(codec, data);
  }

  @Override
  public @Nullable Object deserialize(String topic, Headers headers, @Nullable ByteBuffer data) {
    if (data == null) {
      return null;
    }
    if (!data.hasArray()) {
      byte[] copy = new byte[data.remaining()];
      data.duplicate().get(copy);
      return decode(codec, copy);
    }
    try {
      return codec.decode(data.array(), data.arrayOffset() + data.position(), data.remaining());
    } catch (RuntimeException e) {
      return UNDECODABLE;
    }
  }

  @Override
  public String toString() {
    return "RecordDecoder[" + codec + "]";
  }
}
