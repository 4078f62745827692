package io.cachet.replicated;

import io.cachet.codec.Codec;
import java.nio.ByteBuffer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.jspecify.annotations.Nullable;

/**
 * The replica consumer's key or value deserializer: decodes a record's bytes with the cache's
 * codec straight out of the fetched buffer, on the fetch thread, so a record costs no
 * intermediate array and the apply thread only applies. Never throws for bytes the codec refuses:
 * they become an {@link Unreadable} holding them; the replica skips a record whose key is one, and
 * keeps a value that is one as the key's state (a deserializer that threw would stop the consumer
 * at that record).
 *
 * @param <T> the type the codec decodes
 */
final class RecordDecoder<T> implements Deserializer<Object> {

  private final Codec<T> codec;

  RecordDecoder(Codec<T> codec) {
    this.codec = codec;
  }

  @Override
  public @Nullable Object deserialize(String topic, byte @Nullable [] data) {
    return Unreadable.decode(codec, data);
  }

  @Override
  public @Nullable Object deserialize(String topic, Headers headers, @Nullable ByteBuffer data) {
    if (data == null) {
      return null;
    }
    if (!data.hasArray()) {
      byte[] copy = new byte[data.remaining()];
      data.duplicate().get(copy);
      return Unreadable.decode(codec, copy);
    }
    return Unreadable.decode(codec, data.array(), data.arrayOffset() + data.position(), data.remaining());
  }

  @Override
  public String toString() {
    return "RecordDecoder[" + codec + "]";
  }
}
