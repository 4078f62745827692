package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.codec.Codec;
import io.cachet.codec.CodecException;

/**
 * A codec of one type seen as a codec of {@code Object}, for JCache caches whose keys and values
 * are typed only at run time; a value of another type is refused when it is encoded.
 */
final class ObjectCodec<T> implements Codec<Object> {

  private final Codec<T> codec;

  private ObjectCodec(Codec<T> codec) {
    this.codec = codec;
  }

  /** Returns {@code codec} as a codec of {@code Object}. */
  static Codec<Object> of(Codec<?> codec) {
    requireNonNull(codec, "codec");
    return new ObjectCodec<>(codec);
  }

  @Override
  public byte[] encode(Object value) {
    Class<T> type = codec.type();
    if (!type.isInstance(value)) {
      throw new CodecException(
          "cannot encode a " + value.getClass().getName() + " with " + codec + ", a codec for " + type.getName(),
          null);
    }
    return codec.encode(type.cast(value));
  }

  @Override
  public Object decode(byte[] bytes) {
    return codec.decode(bytes);
  }

  @Override
  public Class<Object> type() {
    return Object.class;
  }

  @Override
  public String toString() {
    return codec.toString();
  }
}
