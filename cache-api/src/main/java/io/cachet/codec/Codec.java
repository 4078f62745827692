package io.cachet.codec;

import java.util.Arrays;
import java.util.Objects;

/**
 * Turns values of one type into bytes and back, for backends that store bytes.
 *
 * <p>{@code decode(encode(x))} equals {@code x}. Implementations are thread-safe and report bytes
 * they cannot decode with a {@link CodecException}.
 *
 * @param <T> the type encoded
 */
public interface Codec<T> {

  /** Returns the bytes for {@code value}. */
  byte[] encode(T value);

  /**
   * Returns the value {@code bytes} stands for.
   *
   * @throws CodecException if the bytes are not a valid encoding
   */
  T decode(byte[] bytes);

  /**
   * Returns the value {@code length} bytes of {@code bytes} from {@code offset} stand for, as
   * {@link #decode(byte[])} of those bytes would. The caller may reuse the array once this returns,
   * so an implementation must not keep a reference to it. The default copies the range; codecs
   * that can read in place (the built-in UTF-8 and JSON ones) override it, which saves a copy per
   * value when values are read out of a larger buffer (a snapshot file). The built-in byte-array
   * codec must copy (the caller reuses the array), and Java serialization uses the default.
   *
   * @throws IndexOutOfBoundsException if the range is not within {@code bytes}
   * @throws CodecException if the bytes are not a valid encoding
   */
  default T decode(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    return decode(Arrays.copyOfRange(bytes, offset, offset + length));
  }

  /** Returns the Java type this codec handles. */
  Class<T> type();
}
