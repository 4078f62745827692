package io.cachet.codec;

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

  /** Returns the Java type this codec handles. */
  Class<T> type();
}
